package org.callvault.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** What a benchmark ran on, for the head of its results: cores, memory, kernel, JVM, commit. */
final class MachineStamp {

  private MachineStamp() {}

  /** A Markdown list of the machine's facts, read off it now. */
  static String describe(Path repository) {
    String cpu = firstValue(Path.of("/proc/cpuinfo"), "model name");
    long memoryKb = 0;
    String memTotal = firstValue(Path.of("/proc/meminfo"), "MemTotal");
    if (!memTotal.isEmpty()) memoryKb = Long.parseLong(memTotal.replaceAll("[^0-9]", ""));
    return String.format(
        Locale.ROOT,
        "- machine: %d cores (%s), %.1f GiB memory, Linux %s%n- JVM: %s %s%n- Cassandra:"
            + " 5.0.6 (`ops/cassandra`), one node, 1 GB heap%n- CallVault: commit %s%n",
        Runtime.getRuntime().availableProcessors(),
        cpu.isEmpty() ? "CPU model unknown" : cpu,
        memoryKb / 1024.0 / 1024.0,
        read(Path.of("/proc/sys/kernel/osrelease")),
        System.getProperty("java.vm.name"),
        System.getProperty("java.runtime.version"),
        commit(repository));
  }

  private static String firstValue(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file))
        if (line.startsWith(key)) return line.substring(line.indexOf(':') + 1).strip();
    } catch (IOException e) {
      return ""; // not Linux: the stamp says "unknown"
    }
    return "";
  }

  private static String read(Path file) {
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String commit(Path repository) {
    try {
      Process git =
          new ProcessBuilder("git", "describe", "--always", "--dirty")
              .directory(repository.toFile())
              .redirectErrorStream(true)
              .start();
      String text = new String(git.getInputStream().readAllBytes()).strip();
      return git.waitFor(10, TimeUnit.SECONDS) && git.exitValue() == 0 ? text : "unknown";
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }
}
