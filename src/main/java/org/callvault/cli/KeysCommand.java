package org.callvault.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.callvault.api.access.ApiKeys;
import org.callvault.api.access.Role;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code callvault keys}: API keys, made here, where nothing but their hash is kept. */
@Command(
    name = "keys",
    description = "Manage API keys.",
    subcommands = {KeysCommand.Create.class})
final class KeysCommand {

  @Command(
      name = "create",
      description = {
        "Makes an API key and prints it once, with the entry a node's configuration keeps of it"
            + " (its hash, never the key).",
        "Roles: recorder (create and control calls), supervisor (read and listen), compliance"
            + " (verify, hold, erase, see who accessed), admin (nodes and drain)."
      })
  static final class Create implements Callable<Integer> {

    @Parameters(index = "0", description = "The key's id: 1-32 lower-case letters, digits or '-'.")
    String id;

    @Option(
        names = "--roles",
        split = ",",
        required = true,
        description = "Comma-separated: recorder, supervisor, compliance, admin.")
    List<Role> roles;

    @Option(
        names = "--append",
        paramLabel = "FILE",
        description =
            "Also add the entry to this keys file (the one CALLVAULT_API_KEYS_FILE names).")
    Path append;

    @Option(
        names = "--key-out",
        paramLabel = "FILE",
        description =
            "Write the key to this file (readable by its owner only) instead of printing it.")
    Path keyOut;

    @Override
    public Integer call() throws IOException {
      Set<Role> chosen = EnumSet.copyOf(roles);
      ApiKeys.Made made;
      try {
        made = ApiKeys.make(id, chosen);
      } catch (IllegalArgumentException e) {
        System.err.println("callvault keys create: " + e.getMessage());
        return 2;
      }
      if (append != null) {
        Files.writeString(
            append,
            "api-keys += " + made.configLine() + "\n",
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
        System.out.println("Added key '" + id + "' to " + append + ".");
      } else {
        System.out.println(
            "Add this entry to callvault.auth.api-keys, or to the file CALLVAULT_API_KEYS_FILE"
                + " names (as api-keys += …):");
        System.out.println("  " + made.configLine());
      }
      if (keyOut != null) {
        Files.deleteIfExists(keyOut);
        Files.createFile(
            keyOut,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(keyOut, made.key() + "\n");
        System.out.println("The key is in " + keyOut + ".");
      } else {
        System.out.println("The key (shown only now; keep it secret):");
        System.out.println("  " + made.key());
      }
      return 0;
    }
  }
}
