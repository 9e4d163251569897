package org.callvault.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.EntityTag;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.callvault.api.access.Principal;
import org.callvault.api.access.Role;

/**
 * The web console: its static pages, served by every node from the jar ({@code
 * src/main/resources/console/}), and {@code GET /v1/me}, which tells a credential who it is and
 * which roles it carries, so the console shows only what they allow.
 *
 * <p>The pages are open routes: they carry no data. Everything a page shows it reads from the API
 * with the credential the person signed in with, so the API's roles decide what anyone sees.
 */
final class ConsoleRoutes extends AllDirectives {

  /** Where the console's files are on the classpath. */
  static final String RESOURCES = "console/";

  /** The console's first page; {@code /} and {@code /console} lead there. */
  static final String HOME = "/console/index.html";

  /**
   * A file name the console may serve: one segment of lowercase letters, digits, dots, dashes and
   * underscores, starting with a letter or digit, so no path leaves the folder.
   */
  private static final Pattern FILE = Pattern.compile("[a-z0-9][a-z0-9_-]*(\\.[a-z0-9]+)+");

  private static final Map<String, ContentType> TYPES =
      Map.of(
          "html", ContentTypes.TEXT_HTML_UTF8,
          "css", MediaTypes.TEXT_CSS.toContentType(HttpCharsets.UTF_8),
          "js", MediaTypes.APPLICATION_JAVASCRIPT.toContentType(HttpCharsets.UTF_8),
          "svg", MediaTypes.IMAGE_SVG_XML.toContentType(),
          "png", MediaTypes.IMAGE_PNG.toContentType());

  /**
   * The pages load scripts, styles and images from the node only, talk to the API only, play audio
   * fetched with the credential (a {@code blob:} URL), and are never framed by another site.
   */
  private static final String CONTENT_SECURITY_POLICY =
      "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; object-src 'none';"
          + " base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

  /** A file read once from the jar, with its entity tag. */
  private record StaticFile(byte[] bytes, ContentType type, EntityTag tag) {}

  private final ClassLoader loader;

  /** The files read so far; a name that is no file is not remembered, so asking costs nothing. */
  private final Map<String, StaticFile> files = new ConcurrentHashMap<>();

  ConsoleRoutes() {
    this(ConsoleRoutes.class.getClassLoader());
  }

  /** Serves the console's files from {@code loader}'s {@code console/} folder (tests). */
  ConsoleRoutes(ClassLoader loader) {
    this.loader = loader;
  }

  List<RouteTable.Entry> entries() {
    RouteTable.Access anyRole =
        RouteTable.Access.of(Role.RECORDER, Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN);
    return List.of(
        home("/"),
        home("/console"),
        home("/console/"),
        new RouteTable.Entry(
            HttpMethods.GET,
            "/console/{file}",
            RouteTable.Access.OPEN,
            (who, path) -> file(path.get("file"))),
        new RouteTable.Entry(HttpMethods.GET, "/v1/me", anyRole, (who, path) -> me(who)));
  }

  private RouteTable.Entry home(String path) {
    return new RouteTable.Entry(
        HttpMethods.GET,
        path,
        RouteTable.Access.OPEN,
        (who, p) ->
            complete(
                HttpResponse.create()
                    .withStatus(StatusCodes.FOUND)
                    .addHeader(Location.create(HOME))
                    .withEntity(
                        HttpEntities.create(
                            ContentTypes.TEXT_HTML_UTF8,
                            "<a href=\"" + HOME + "\">The CallVault console</a>"))));
  }

  /** Who the credential is, and its roles: what the console asks first. */
  private Route me(Principal who) {
    ObjectNode json = CallJson.MAPPER.createObjectNode();
    json.put("principal", who.name());
    ArrayNode roles = json.putArray("roles");
    who.roles().stream().sorted().map(Role::id).forEach(roles::add);
    return complete(CallRoutes.json(StatusCodes.OK, json));
  }

  /**
   * One of the console's files, revalidated by the browser at each use ({@code no-cache} with an
   * entity tag: an upgraded node serves its new pages at once, an unchanged page costs a 304).
   */
  private Route file(String name) {
    Optional<StaticFile> found = find(name);
    if (found.isEmpty())
      return complete(
          CallRoutes.json(
              StatusCodes.NOT_FOUND,
              CallJson.error(404, "the console has no file '" + abbreviated(name) + "'")));
    StaticFile file = found.get();
    return respondWithHeaders(
        List.of(
            RawHeader.create("Cache-Control", "no-cache"),
            RawHeader.create("X-Content-Type-Options", "nosniff"),
            RawHeader.create("Referrer-Policy", "no-referrer"),
            RawHeader.create("Content-Security-Policy", CONTENT_SECURITY_POLICY)),
        () ->
            conditional(
                file.tag(), () -> complete(HttpEntities.create(file.type(), file.bytes()))));
  }

  /** The file {@code name} of the console folder, if it is one the console may serve. */
  private Optional<StaticFile> find(String name) {
    if (name == null || !FILE.matcher(name).matches()) return Optional.empty();
    ContentType type = TYPES.get(name.substring(name.lastIndexOf('.') + 1));
    if (type == null) return Optional.empty();
    StaticFile known = files.get(name);
    if (known != null) return Optional.of(known);
    Optional<StaticFile> read = read(name, type);
    read.ifPresent(file -> files.put(name, file));
    return read;
  }

  private Optional<StaticFile> read(String name, ContentType type) {
    try (InputStream in = loader.getResourceAsStream(RESOURCES + name)) {
      if (in == null) return Optional.empty();
      byte[] bytes = in.readAllBytes();
      String digest = HexFormat.of().formatHex(sha256().digest(bytes)).substring(0, 32);
      return Optional.of(new StaticFile(bytes, type, EntityTag.create(digest, false)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the console's " + name + " from the jar", e);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private static String abbreviated(String name) {
    String printable = name == null ? "" : name.replaceAll("[^!-~]", "?");
    return printable.length() > 80 ? printable.substring(0, 80) + "…" : printable;
  }
}
