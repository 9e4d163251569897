package org.callvault.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ops/callvault}: the operators' command line. It talks to a node's REST API ({@code --url},
 * {@code CALLVAULT_URL}) with an API key ({@code --key}, {@code CALLVAULT_API_KEY}); {@code --json}
 * prints the API's answers as JSON, otherwise tables for people.
 *
 * <p>Its exit status tells scripts what happened:
 *
 * <table>
 *   <caption>exit status</caption>
 *   <tr><td>0</td><td>{@link #OK}: done</td></tr>
 *   <tr><td>1</td><td>{@link #FAILED}: the request failed (a server error, a conflict such as a
 *       drain of a node that leaves already, an export cut short)</td></tr>
 *   <tr><td>2</td><td>{@link #USAGE}: the command was used wrongly, or the API refused a
 *       parameter (400)</td></tr>
 *   <tr><td>3</td><td>{@link #NOT_FOUND}: no such call or node (404)</td></tr>
 *   <tr><td>4</td><td>{@link #DENIED}: no valid key (401), a key without the role the request
 *       needs (403), or too many failed attempts (429)</td></tr>
 *   <tr><td>5</td><td>{@link #LEDGER_BROKEN}: a call's ledger does not verify</td></tr>
 *   <tr><td>6</td><td>{@link #UNREACHABLE}: no API answers at the URL</td></tr>
 * </table>
 */
@Command(
    name = "callvault",
    mixinStandardHelpOptions = true,
    // -h and -V for every command.
    scope = CommandLine.ScopeType.INHERIT,
    version = "CallVault 0.1.0",
    description = "Operates a CallVault deployment.",
    subcommands = {
      CallsCommand.class,
      LedgerCommand.class,
      NodesCommand.class,
      NodesCommand.Drain.class,
      KeysCommand.class,
      Cli.Completion.class,
      CommandLine.HelpCommand.class
    },
    footerHeading = "%nExit status:%n",
    footer = {
      "  0 done, 1 failed, 2 used wrongly, 3 not found, 4 unauthorized or forbidden,",
      "  5 a ledger does not verify, 6 no API answers at the URL."
    })
public final class Cli {

  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  public static final int NOT_FOUND = 3;
  public static final int DENIED = 4;
  public static final int LEDGER_BROKEN = 5;
  public static final int UNREACHABLE = 6;

  /** Whether a person watches the error stream (for progress). */
  boolean interactive;

  public static void main(String[] args) {
    System.exit(
        run(
            new PrintWriter(System.out, true),
            new PrintWriter(System.err, true),
            System.console() != null,
            args));
  }

  /**
   * Runs one command line; its exit status.
   *
   * @param interactive whether a person watches {@code err}: long exports then show their progress
   */
  public static int run(PrintWriter out, PrintWriter err, boolean interactive, String... args) {
    Cli root = new Cli();
    root.interactive = interactive;
    CommandLine cli = new CommandLine(root);
    cli.setCaseInsensitiveEnumValuesAllowed(true)
        .setOut(out)
        .setErr(err)
        .setExecutionExceptionHandler(
            (e, command, parsed) -> {
              if (e instanceof Failure f) {
                err.println("callvault: " + f.getMessage());
                return f.status;
              }
              err.println("callvault: " + e);
              return FAILED;
            });
    int status = cli.execute(args);
    out.flush();
    err.flush();
    return status;
  }

  @Command(
      name = "completion",
      description = {
        "Prints a bash completion script.",
        "For this shell: source <(ops/callvault completion); for every shell, save it as"
            + " /etc/bash_completion.d/callvault. It completes callvault (on the PATH) and"
            + " ops/callvault."
      })
  static final class Completion implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      out.print(AutoComplete.bash("callvault", spec.root().commandLine()));
      out.println("complete -F _complete_callvault -o default ops/callvault");
      return OK;
    }
  }

  /** What a command could not do, with the exit status that says so. */
  static final class Failure extends RuntimeException {
    final int status;

    Failure(int status, String message) {
      super(message);
      this.status = status;
    }
  }
}
