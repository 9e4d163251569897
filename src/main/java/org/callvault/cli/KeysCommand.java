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
import org.callvault.store.MasterKeyset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code callvault keys}: API keys, made here, where nothing but their hash is kept. */
@Command(
    name = "keys",
    description = "Manage API keys and the master keyset.",
    subcommands = {KeysCommand.Create.class, KeysCommand.Master.class})
final class KeysCommand {

  /** {@code callvault keys master}: the keyset that wraps every recording's keys. */
  @Command(
      name = "master",
      description = "Make or rotate the master keyset (Tink JSON; a secret).",
      subcommands = {Master.MakeOne.class, Master.Rotate.class})
  static final class Master {

    @Command(
        name = "create",
        description =
            "Writes a new master keyset to FILE (readable by its owner only); refuses to overwrite"
                + " one.")
    static final class MakeOne implements Callable<Integer> {
      @Parameters(index = "0", paramLabel = "FILE")
      Path file;

      @Override
      public Integer call() throws Exception {
        if (Files.exists(file)) {
          System.err.println(
              "callvault keys master create: "
                  + file
                  + " exists; a master keyset is never overwritten (rotate it instead)");
          return 2;
        }
        writeSecret(file, MasterKeyset.newKeysetJson());
        System.out.println("Wrote a new master keyset to " + file + ".");
        return 0;
      }
    }

    @Command(
        name = "rotate",
        description = {
          "Adds a new key to the keyset in FILE and makes it the one that wraps; the old keys stay"
              + " to unwrap what they wrapped.",
          "Then: give every node the new file and restart them one at a time, and have the"
              + " recordings' keys wrapped again (POST /v1/keys/rewrap, admin); after that the old"
              + " keys may be removed."
        })
    static final class Rotate implements Callable<Integer> {
      @Parameters(index = "0", paramLabel = "FILE")
      Path file;

      @Override
      public Integer call() throws Exception {
        String rotated = MasterKeyset.rotatedJson(Files.readString(file));
        Path previous = file.resolveSibling(file.getFileName() + ".previous");
        Files.copy(file, previous, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        writeSecret(file, rotated);
        System.out.println(
            "Rotated "
                + file
                + " (the previous keyset is in "
                + previous
                + "): new primary key id "
                + MasterKeyset.parse(rotated).primaryKeyId()
                + ".");
        return 0;
      }
    }
  }

  /** Writes {@code text} to {@code file}, readable and writable by its owner alone. */
  static void writeSecret(Path file, String text) throws IOException {
    Path fresh = file.resolveSibling(file.getFileName() + ".new");
    Files.deleteIfExists(fresh);
    Files.createFile(
        fresh, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(fresh, text);
    Files.move(
        fresh,
        file,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

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
        writeSecret(keyOut, made.key() + "\n");
        System.out.println("The key is in " + keyOut + ".");
      } else {
        System.out.println("The key (shown only now; keep it secret):");
        System.out.println("  " + made.key());
      }
      return 0;
    }
  }
}
