package org.callvault.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ops/node start} refuses, naming what holds them, ports another node holds: {@code
 * ops/cluster up 3} next to a running {@code ops/run} used to let nodes 2 and 3 join the {@code
 * ops/run} node as if it were node 1. The refusals come before anything is built or started.
 */
class OpsNodeTest {

  @TempDir Path home;

  private record Result(int exit, String output) {}

  private Result opsNode(String... args) throws Exception {
    Path root = Path.of(System.getProperty("user.dir"));
    List<String> command = new java.util.ArrayList<>(List.of(root.resolve("ops/node").toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("CALLVAULT_HOME", home.toString());
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes());
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "ops/node " + String.join(" ", args));
    return new Result(process.exitValue(), output);
  }

  @Test
  void node1RefusesAPortOpsRunHoldsAndSaysWhoHoldsIt() throws Exception {
    // This JVM plays the node ops/run started: its pid file, and node 1's API port.
    Files.writeString(home.resolve("node.pid"), String.valueOf(ProcessHandle.current().pid()));
    try (ServerSocket api = new ServerSocket(8080, 1, InetAddress.getLoopbackAddress())) {
      Result refused = opsNode("start", "1");
      assertEquals(1, refused.exit(), refused.output());
      assertTrue(
          refused.output().contains("node 1's API port 8080 is in use by"), refused.output());
      assertTrue(
          refused
              .output()
              .contains("It is the node ops/run started (pid " + ProcessHandle.current().pid()),
          refused.output());
    }
    assertFalse(Files.exists(home.resolve("nodes/1/node.pid")), "nothing was started");
  }

  @Test
  void aLaterNodeRefusesToJoinANode1ThatIsNotThisClustersOwn() throws Exception {
    Result refused = opsNode("start", "2");
    assertEquals(1, refused.exit(), refused.output());
    assertTrue(
        refused.output().contains("node 2 joins node 1 (cluster port 25520), which is not running"),
        refused.output());
    assertFalse(Files.exists(home.resolve("nodes/2/node.pid")), "nothing was started");
  }
}
