package org.callvault.api.access;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The API keys of the tests, whose hashes {@code src/test/resources/test-api-keys.conf} lists: one
 * with every role, and one per role. Made with {@code ops/callvault keys create}; never used
 * outside the tests.
 */
public final class TestKeys {

  private TestKeys() {}

  /** Every role. */
  public static final String ALL = "cvk_test_VMsXRWnyZ4iZ9dFL0W8uRJC5AplFfx-onabj2QvCYuo";

  public static final String RECORDER =
      "cvk_test-recorder_pDNMcNX8dLxoE_4OW1PEi0bpXaWGAbb-Mm-LA8TCnf8";
  public static final String SUPERVISOR =
      "cvk_test-supervisor_WfPofxMtsbbsWWi1iiUUegaQcMBTjcXoElYWZ0Dxg8I";
  public static final String COMPLIANCE =
      "cvk_test-compliance_vwQcV2JWVPE90vK3xC_7ysr9J3GobfEXD2wfGqovIts";
  public static final String ADMIN = "cvk_test-admin_vegcFoq6ZsG_GPw0e2LNSPvNxB1GoAELEfbgMXCCHYg";

  /** The key of each single role. */
  public static String of(Role role) {
    return switch (role) {
      case RECORDER -> RECORDER;
      case SUPERVISOR -> SUPERVISOR;
      case COMPLIANCE -> COMPLIANCE;
      case ADMIN -> ADMIN;
    };
  }

  /**
   * What a node given {@link #file()} authenticates with: these keys, no sign-in tokens, a source
   * answered 429 after {@code maxFailures} failures within a minute.
   */
  public static Authenticator authenticator(int maxFailures) {
    return new Authenticator(
        new Authenticator.Settings(
            Authenticator.Settings.from(
                    ConfigFactory.parseString("api-keys-file = \"" + file() + "\"")
                        .withFallback(ConfigFactory.load().getConfig("callvault.auth")))
                .keys(),
            null,
            maxFailures,
            Duration.ofMinutes(1)),
        Runnable::run,
        System::currentTimeMillis);
  }

  /** The keys file, as a node is given it ({@code CALLVAULT_API_KEYS_FILE}). */
  public static Path file() {
    return Path.of(System.getProperty("user.dir"), "src/test/resources/test-api-keys.conf");
  }
}
