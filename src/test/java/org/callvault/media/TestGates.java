package org.callvault.media;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.callvault.core.Gate;

/** Gates a test opens and closes itself, standing in for a call's entity. */
final class TestGates implements Function<String, Gate> {

  private static final class TestGate implements Gate {
    volatile boolean open;

    @Override
    public boolean isOpen() {
      return open;
    }
  }

  private final Map<String, TestGate> byLabel = new ConcurrentHashMap<>();

  /** Gates open for these labels, closed for every other. */
  static TestGates open(String... labels) {
    TestGates gates = new TestGates();
    for (String label : labels) gates.set(label, true);
    return gates;
  }

  void set(String label, boolean open) {
    byLabel.computeIfAbsent(label, l -> new TestGate()).open = open;
  }

  @Override
  public Gate apply(String label) {
    return byLabel.computeIfAbsent(label, l -> new TestGate());
  }
}
