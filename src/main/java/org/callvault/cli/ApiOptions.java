package org.callvault.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.callvault.core.Json;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options every command that talks to the API takes: where the API is, the key to use, and
 * whether to print JSON.
 */
final class ApiOptions {

  /** Where ops/run and ops/node keep a development machine's state, and ops/dev-key its key. */
  static final String DEV_KEY_FILE = "dev-api-key";

  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  @Option(
      names = "--url",
      paramLabel = "URL",
      defaultValue = "${env:CALLVAULT_URL:-http://127.0.0.1:8080}",
      description = "A node's API (env CALLVAULT_URL; default ${DEFAULT-VALUE}).")
  String url;

  @Option(
      names = "--key",
      paramLabel = "KEY",
      description = {
        "The API key (env CALLVAULT_API_KEY). Without either, on a loopback URL, the development"
            + " key ops/dev-key made ($CALLVAULT_HOME/dev-api-key, .callvault by default)."
      })
  String key;

  @Option(names = "--json", description = "Print the API's answers as JSON, for scripts.")
  boolean json;

  /** The API at {@code --url}, with the key chosen. */
  ApiClient api() {
    URI base;
    try {
      base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(command.commandLine(), "--url: not a URL: " + url);
    }
    if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme())
        || base.getHost() == null)
      throw new ParameterException(
          command.commandLine(), "--url must be http://HOST:PORT or https://HOST:PORT: " + url);
    return new ApiClient(base, key(base));
  }

  /**
   * {@code --key}, else {@code CALLVAULT_API_KEY}, else, for an API on this machine only, the
   * development key: never sent to another host, where it would not be valid anyway.
   */
  private String key(URI base) {
    if (key != null && !key.isBlank()) return key.trim();
    String fromEnv = System.getenv("CALLVAULT_API_KEY");
    if (fromEnv != null && !fromEnv.isBlank()) return fromEnv.trim();
    if (!loopback(base.getHost())) return null;
    String home = System.getenv("CALLVAULT_HOME");
    Path dev = Path.of(home == null || home.isBlank() ? ".callvault" : home, DEV_KEY_FILE);
    try {
      return Files.isReadable(dev) ? Files.readString(dev).trim() : null;
    } catch (IOException e) {
      throw new Cli.Failure(Cli.FAILED, "cannot read the development key " + dev + ": " + e);
    }
  }

  private static boolean loopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false; // a name that does not resolve is no address of this machine
    }
  }

  PrintWriter out() {
    return command.commandLine().getOut();
  }

  PrintWriter err() {
    return command.commandLine().getErr();
  }

  /** Whether a person watches the error stream. */
  boolean interactive() {
    return command.root().userObject() instanceof Cli cli && cli.interactive;
  }

  /** Prints {@code answer} as indented JSON. */
  void printJson(JsonNode answer) {
    try {
      out().println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(answer));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
  }
}
