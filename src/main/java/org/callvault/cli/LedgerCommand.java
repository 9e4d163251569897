package org.callvault.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code callvault ledger}: a call's compliance ledger. */
@Command(
    name = "ledger",
    description = "Check a call's ledger.",
    subcommands = {LedgerCommand.Verify.class})
final class LedgerCommand {

  @Command(
      name = "verify",
      description = {
        "Verifies a call's ledger: exit status 0 when it does, 5 when it does not.",
        "Recomputes the call's hash chain on the server (GET /v1/calls/{id}/ledger/verify); the"
            + " verification is recorded in the ledger.",
        "Needs the role compliance."
      })
  static final class Verify implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(index = "0", paramLabel = "ID", description = "The call's id.")
    String id;

    @Override
    public Integer call() {
      JsonNode verified = api.api().get("/v1/calls/" + CallsCommand.segment(id) + "/ledger/verify");
      boolean valid = verified.path("valid").asBoolean();
      if (api.json) api.printJson(verified);
      else if (valid)
        api.out()
            .println(
                "The ledger of "
                    + id
                    + " verifies: "
                    + verified.path("events").asLong()
                    + " events, the last with hash "
                    + verified.path("lastHash").asText()
                    + ".");
      else
        api.out()
            .println(
                "The ledger of "
                    + id
                    + " does NOT verify: the chain breaks at event "
                    + verified.path("brokenAt").asLong()
                    + " of "
                    + verified.path("events").asLong()
                    + ": "
                    + verified.path("reason").asText());
      return valid ? Cli.OK : Cli.LEDGER_BROKEN;
    }
  }
}
