package org.callvault.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ops/callvault}: the operators' command line. Exit status 0 on success, 2 for a command
 * used wrongly, 1 when what it asked for failed.
 */
@Command(
    name = "callvault",
    mixinStandardHelpOptions = true,
    version = "CallVault 0.1.0",
    description = "Operates a CallVault deployment.",
    subcommands = {KeysCommand.class, CommandLine.HelpCommand.class})
public final class Cli {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs one command line; its exit status. */
  static int run(String... args) {
    return new CommandLine(new Cli()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
  }
}
