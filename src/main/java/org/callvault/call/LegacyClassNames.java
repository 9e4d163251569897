package org.callvault.call;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import org.apache.pekko.serialization.jackson.JacksonMigration;

/**
 * Reads what the journal, the snapshot store or another node serialized under a class name this
 * version no longer has: Jackson CBOR names the class of every message in its manifest. Each old
 * name is registered for this migration in {@code pekko.serialization.jackson.migrations}; the
 * fields are unchanged, so only the class is.
 */
public final class LegacyClassNames extends JacksonMigration {

  /** Old class name to the class that reads it now. */
  static final Map<String, String> RENAMED =
      Map.of(
          "org.callvault.call.CallRecording$Event", "org.callvault.call.Event",
          "org.callvault.call.CallRecording$Call", "org.callvault.call.Call",
          "org.callvault.call.CallRecording$NoCall", "org.callvault.call.State$NoCall");

  @Override
  public int currentVersion() {
    return 2;
  }

  @Override
  public String transformClassName(int fromVersion, String className) {
    return RENAMED.getOrDefault(className, className);
  }

  @Override
  public JsonNode transform(int fromVersion, JsonNode json) {
    return json;
  }
}
