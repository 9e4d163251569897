package org.callvault.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.callvault.core.Json;

/**
 * A JSON object from a request, read field by field. Every mistake is a {@link BadRequest} whose
 * message names the field by its full path ({@code parties[1].role}), so a caller can fix it.
 * Unknown fields are refused: a misspelt optional field would otherwise be silently ignored.
 */
final class JsonBody {

  /** The request is wrong; answered with 400 and this message. */
  static final class BadRequest extends RuntimeException {
    BadRequest(String message) {
      super(message, null, false, false);
    }
  }

  private static final ObjectMapper MAPPER = Json.MAPPER;

  /** One JSON value and nothing after it: {@code {...}} followed by more is malformed. */
  private static final ObjectReader READER =
      MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final ObjectNode node;
  private final String path;

  private JsonBody(ObjectNode node, String path, Set<String> fields) {
    this.node = node;
    this.path = path;
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!fields.contains(name))
        throw new BadRequest(
            "unknown field '"
                + qualified(name)
                + "' (expected: "
                + String.join(", ", new TreeSet<>(fields))
                + ")");
    }
  }

  /**
   * Parses a request body that must be one JSON object with only these fields; empty means {@code
   * {}}.
   */
  static JsonBody parse(String text, String... fields) {
    if (text == null || text.isBlank())
      return new JsonBody(MAPPER.createObjectNode(), "", Set.of(fields));
    JsonNode root;
    try {
      root = READER.readTree(text);
    } catch (JsonProcessingException e) {
      // Too deep a nesting (StreamReadConstraints) or too long a number carry no location.
      throw new BadRequest(
          "malformed JSON: "
              + e.getOriginalMessage()
              + (e.getLocation() == null
                  ? ""
                  : " at line "
                      + e.getLocation().getLineNr()
                      + ", column "
                      + e.getLocation().getColumnNr()));
    }
    if (root == null || !root.isObject()) throw new BadRequest("the body must be a JSON object");
    return new JsonBody((ObjectNode) root, "", Set.of(fields));
  }

  private String qualified(String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  private JsonNode value(String field, boolean required) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      if (required) throw new BadRequest("field '" + qualified(field) + "' is required");
      return null;
    }
    return value;
  }

  /** A non-blank string, or null when absent and not required. */
  String text(String field, boolean required) {
    JsonNode value = value(field, required);
    if (value == null) return null;
    if (!value.isTextual())
      throw new BadRequest(
          "field '" + qualified(field) + "' must be a string, was " + describe(value));
    if (value.textValue().isBlank())
      throw new BadRequest("field '" + qualified(field) + "' must not be blank");
    return value.textValue();
  }

  /** One of the enum's names, exactly; null when absent and not required. */
  <E extends Enum<E>> E enumValue(String field, Class<E> type, boolean required) {
    JsonNode value = value(field, required);
    if (value == null) return null;
    String allowed =
        Arrays.stream(type.getEnumConstants()).map(Enum::name).collect(Collectors.joining(", "));
    if (!value.isTextual())
      throw new BadRequest(
          "field '"
              + qualified(field)
              + "' must be one of "
              + allowed
              + ", was "
              + describe(value));
    for (E constant : type.getEnumConstants()) {
      if (constant.name().equals(value.textValue())) return constant;
    }
    throw new BadRequest(
        "field '"
            + qualified(field)
            + "' must be one of "
            + allowed
            + ", was '"
            + value.textValue()
            + "'");
  }

  Boolean bool(String field) {
    JsonNode value = value(field, false);
    if (value == null) return null;
    if (!value.isBoolean())
      throw new BadRequest(
          "field '" + qualified(field) + "' must be true or false, was " + describe(value));
    return value.booleanValue();
  }

  Integer integer(String field) {
    JsonNode value = value(field, false);
    if (value == null) return null;
    if (!value.isIntegralNumber() || !value.canConvertToInt())
      throw new BadRequest(
          "field '" + qualified(field) + "' must be a whole number, was " + describe(value));
    return value.intValue();
  }

  /** A nested object with only these fields, or null when absent. */
  JsonBody object(String field, String... fields) {
    JsonNode value = value(field, false);
    if (value == null) return null;
    if (!value.isObject())
      throw new BadRequest(
          "field '" + qualified(field) + "' must be an object, was " + describe(value));
    return new JsonBody((ObjectNode) value, qualified(field), Set.of(fields));
  }

  /** An array of objects with only these fields. */
  List<JsonBody> objects(String field, boolean required, String... fields) {
    JsonNode value = value(field, required);
    if (value == null) return List.of();
    if (!value.isArray())
      throw new BadRequest(
          "field '" + qualified(field) + "' must be an array, was " + describe(value));
    List<JsonBody> items = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      JsonNode item = value.get(i);
      String itemPath = qualified(field) + "[" + i + "]";
      if (!item.isObject())
        throw new BadRequest("field '" + itemPath + "' must be an object, was " + describe(item));
      items.add(new JsonBody((ObjectNode) item, itemPath, Set.of(fields)));
    }
    return items;
  }

  private static String describe(JsonNode value) {
    String kind = value.getNodeType().name().toLowerCase();
    String text = value.toString();
    return kind + " " + (text.length() > 40 ? text.substring(0, 40) + "…" : text);
  }
}
