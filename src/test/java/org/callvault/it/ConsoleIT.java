package org.callvault.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import org.callvault.api.access.TestKeys;
import org.callvault.bench.Codec;
import org.callvault.bench.LoadGenerator;
import org.callvault.bench.Options;
import org.callvault.bench.Summary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The web console in headless Chromium (Debian's {@code chromium} and {@code chromium-driver})
 * against a node on the real Cassandra: a call recorded with a pause of two seconds in its middle,
 * then its page as a supervisor and as a compliance officer sees it. Screenshots go to {@code
 * target/console-screenshots/}.
 */
@ResourceLock(Machine.LOCK)
class ConsoleIT {

  private static final Path SCREENSHOTS =
      Path.of(System.getProperty("user.dir"), "target/console-screenshots");

  private static NodeProcess node;
  private static Http api;
  private static String callId;
  private static JsonNode call;
  private static JsonNode timeline;

  /** The stereo export's frames, left (agent) and right (customer). */
  private static short[][] stereo;

  private ChromeDriver browser;
  private String testName;

  @BeforeAll
  static void recordACallWithAPause() throws Exception {
    node =
        NodeProcess.start(
            "console",
            "console_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12),
            Map.of());
    api = new Http(node.base());
    Options options =
        eightSeconds("console", "{\"consentMode\":\"ALL_PARTY\"}")
            .postToEachCall(
                0.4, "/consent", "{\"party\":\"agent\",\"decision\":\"GRANTED\",\"by\":\"ivr\"}")
            .postToEachCall(
                0.5, "/consent", "{\"party\":\"customer\",\"decision\":\"GRANTED\",\"by\":\"ivr\"}")
            .postToEachCall(3.0, "/pause", "{\"reason\":\"card payment\",\"by\":\"agent-7\"}")
            .postToEachCall(5.0, "/resume", "{\"by\":\"agent-7\"}");
    Summary summary = LoadGenerator.run(options);
    summary.requireActionsOk();
    callId = summary.calls().get(0).callId();
    call = api.get("/v1/calls/" + callId, 200);
    assertEquals("STOPPED", call.path("state").asText());
    timeline = api.get("/v1/calls/" + callId + "/timeline", 200);
    assertEquals("SILENCE", timeline.path("pauseRendering").asText());
    stereo = Recordings.pcm(api.bytes("/v1/calls/" + callId + "/audio.wav?layout=stereo"), 2);
    Files.createDirectories(SCREENSHOTS);
  }

  @AfterAll
  static void stop() throws Exception {
    if (node != null) node.stop();
  }

  @BeforeEach
  void openBrowser(TestInfo test) {
    testName = test.getTestMethod().orElseThrow().getName();
    ChromeOptions options = new ChromeOptions();
    options.setBinary("/usr/bin/chromium");
    options.addArguments(
        "--headless=new",
        "--no-sandbox", // the tests run as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--window-size=1280,1700",
        "--autoplay-policy=no-user-gesture-required");
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File("/usr/bin/chromedriver"))
            .usingAnyFreePort()
            .build();
    browser = new ChromeDriver(service, options);
    browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
  }

  @AfterEach
  void closeBrowser() throws Exception {
    if (browser != null) {
      screenshot(testName + "-end");
      browser.quit();
    }
  }

  /**
   * A supervisor signs in on the way to the call's page; its picture marks the pause on both
   * streams where it is in the audio, the player holds the whole export, the ledger says who paused
   * and why, and nothing of compliance is offered.
   */
  @Test
  void aSupervisorSeesThePauseWhereItIsInTheRecording() throws Exception {
    browser.get(node.base() + "/console/call.html?id=" + callId);
    await("the sign-in form", () -> visible("sign-in-form"));
    assertTrue(browser.getCurrentUrl().contains("/console/index.html?next="));
    signIn(TestKeys.SUPERVISOR);
    awaitCallPage();

    assertEquals("key:test-supervisor", text(By.id("principal")));
    assertEquals("supervisor", text(By.id("roles")));
    assertEquals(
        List.of("agent", "customer"),
        browser.findElements(By.cssSelector("#parties tbody tr")).stream()
            .map(r -> r.getAttribute("data-party"))
            .toList());
    String agentRow = text(By.cssSelector("#parties tr[data-party='agent']"));
    assertTrue(agentRow.contains("granted") && agentRow.contains("ivr"), agentRow);

    // Where the pause is in the recording: the silence it left in each channel of the WAV (the
    // load generator sends no silence and loses nothing here). The picture places it by the
    // stream's own RTP clock, as the export does, so it is there to a packet. The ledger's times
    // of the pause and the resume say the same but for how far the sender's RTP clock fell behind
    // the wall clock (it is held back while the load generator asks the API), a few hundred
    // milliseconds on a loaded machine: that they are within a second says it is this pause.
    JsonNode pause = call.path("pauses").get(0);
    long startMicros = timeline.path("startMicros").asLong();
    double pausedMs = (micros(pause.path("start").asText()) - startMicros) / 1000.0;
    double resumedMs = (micros(pause.path("end").asText()) - startMicros) / 1000.0;
    for (String stream : List.of("agent", "customer")) {
      double[] silence = longestSilenceMs(stereo[stream.equals("agent") ? 0 : 1]);
      assertEquals(2000, silence[1] - silence[0], 300, stream + ": two seconds of silence");
      double[] marked = markedMs("pause", stream);
      assertEquals(silence[0], marked[0], 100, stream + ": the pause's start on the picture");
      assertEquals(silence[1], marked[1], 100, stream + ": the pause's end on the picture");
      assertEquals(pausedMs, marked[0], 1000, stream + ": the ledger's pause");
      assertEquals(resumedMs, marked[1], 1000, stream + ": the ledger's resume");
    }
    assertTrue(
        browser.findElements(By.cssSelector("svg.timeline [data-kind='consent']")).isEmpty(),
        "the wait for consent ended before the first stored sample: nothing of it is heard");
    assertEquals(
        stereo[0].length / 8.0,
        Double.parseDouble(
            browser.findElement(By.cssSelector("svg.timeline")).getAttribute("data-duration-ms")),
        1.0,
        "the picture spans the export");

    WebElement audio = browser.findElement(By.id("audio"));
    await("the audio's metadata", () -> number("return arguments[0].readyState", audio) >= 1);
    assertEquals(
        stereo[0].length / 8000.0,
        number("return arguments[0].duration", audio),
        0.05,
        "the player's duration is the export's");
    await("both waveforms", () -> browser.findElements(By.cssSelector("path.wave")).size() == 2);

    List<String> ledger =
        browser.findElements(By.cssSelector("#ledger tbody tr")).stream()
            .map(WebElement::getText)
            .toList();
    assertTrue(
        ledger.stream()
            .anyMatch(l -> l.contains("agent-7") && l.contains("paused recording: card payment")),
        String.join("\n", ledger));
    assertTrue(ledger.stream().anyMatch(l -> l.contains("agent-7 resumed recording")));
    assertTrue(ledger.stream().anyMatch(l -> l.contains("recorded customer's consent: granted")));
    assertTrue(
        text(By.id("verification")).contains("compliance role"), text(By.id("verification")));
    assertTrue(
        browser.findElements(By.cssSelector("#spans tbody tr[data-kind='pause']")).size() == 2);

    assertFalse(visible("compliance"), "no compliance action for a supervisor");
    assertFalse(visible("hold-form"));
    assertFalse(visible("erase-button"));
    screenshot("supervisor-call-page");
    screenshot(browser.findElement(By.id("recording")), "supervisor-recording");
  }

  /**
   * A compliance officer sees the chain verified and the compliance actions: places a legal hold
   * with its reason, and the erasure, confirmed by typing the call's id, is refused under it.
   */
  @Test
  void aComplianceOfficerVerifiesHoldsAndIsRefusedErasureUnderTheHold() throws Exception {
    browser.get(node.base() + "/console/index.html");
    signIn(TestKeys.COMPLIANCE);
    await("the home page", () -> visible("open-form"));
    browser.findElement(By.id("call-id")).sendKeys(callId);
    browser.findElement(By.cssSelector("#open-form button")).click();
    awaitCallPage();
    await("the verification", () -> text(By.id("verification")).contains("verifies"));
    assertTrue(visible("compliance"));
    assertTrue(visible("hold-form"));
    assertEquals("No legal hold.", text(By.id("hold-status")));

    browser.findElement(By.id("hold-reason")).sendKeys("litigation 2026-17");
    browser.findElement(By.id("hold-button")).click();
    await("the hold", () -> text(By.id("hold-status")).startsWith("On legal hold"));
    assertTrue(text(By.id("hold-status")).contains("litigation 2026-17"));
    await(
        "the hold in the ledger",
        () -> text(By.id("ledger")).contains("placed a legal hold: litigation 2026-17"));

    browser.findElement(By.id("erase-button")).click();
    await("the erasure's dialog", () -> visible("erase-dialog"));
    WebElement erase = browser.findElement(By.id("erase-submit"));
    browser.findElement(By.id("erase-reason")).sendKeys("data subject request");
    browser.findElement(By.id("erase-confirm")).sendKeys(callId.substring(0, 5));
    assertFalse(erase.isEnabled(), "erasure waits for the whole call id");
    browser.findElement(By.id("erase-confirm")).sendKeys(callId.substring(5));
    assertTrue(erase.isEnabled());
    screenshot("compliance-erase-dialog");
    erase.click();
    await("the refusal", () -> visible("compliance-message"));
    assertTrue(
        text(By.id("compliance-message")).contains("hold"), text(By.id("compliance-message")));
    api.bytes("/v1/calls/" + callId + "/audio.wav"); // the audio is still there: 200
    screenshot("compliance-call-page");

    browser
        .findElement(By.id("hold-button"))
        .click(); // lifted: other tests find the call as it was
    await("the hold lifted", () -> text(By.id("hold-status")).equals("No legal hold."));
  }

  /**
   * A call whose pauses are cut from the export ({@code pauseRendering: SKIP}), under {@code
   * RECORD_OTHERS}, whose customer declines consent for a second and grants it again, with 2 % of
   * its packets lost: the pause is a mark where the audio was cut, on each stream where its own
   * clock put it; the customer's decline is a span of the customer's silence, after the cut; the
   * losses are marked.
   */
  @Test
  void whenPausesAreCutThePauseIsAMarkWhereTheAudioWasCutAndADeclineIsHeld() throws Exception {
    Options options =
        eightSeconds(
                "console-skip", "{\"pauseRendering\":\"SKIP\",\"onDecline\":\"RECORD_OTHERS\"}")
            .loss(0.02)
            .seed(17)
            .postToEachCall(2.0, "/pause", "{\"reason\":\"card payment\",\"by\":\"agent-7\"}")
            .postToEachCall(3.5, "/resume", "{\"by\":\"agent-7\"}")
            .postToEachCall(
                5.0,
                "/consent",
                "{\"party\":\"customer\",\"decision\":\"DECLINED\",\"by\":\"customer\"}")
            .postToEachCall(
                6.0,
                "/consent",
                "{\"party\":\"customer\",\"decision\":\"GRANTED\",\"by\":\"customer\"}");
    Summary summary = LoadGenerator.run(options);
    summary.requireActionsOk();
    String skipped = summary.calls().get(0).callId();
    JsonNode axis = api.get("/v1/calls/" + skipped + "/timeline", 200);
    JsonNode ledger = api.get("/v1/calls/" + skipped + "/ledger", 200);
    short[][] audio =
        Recordings.pcm(api.bytes("/v1/calls/" + skipped + "/audio.wav?layout=stereo"), 2);

    browser.get(node.base() + "/console/index.html");
    signIn(TestKeys.SUPERVISOR);
    await("the home page", () -> visible("open-form"));
    browser.get(node.base() + "/console/call.html?id=" + skipped);
    awaitCallPage();
    long start = axis.path("startMicros").asLong();
    for (String stream : List.of("agent", "customer")) {
      // Where this stream's audio was cut: its removed span, which ends where its first chunk
      // after the resume begins (that chunk names the first packet the gate dropped; the
      // customer's first chunk after the new consent is such a chunk too, later).
      JsonNode removed = Recordings.streamOf(axis, stream).path("removed");
      assertEquals(1, removed.size(), stream + ": one span cut: " + removed);
      JsonNode resumed = null;
      for (JsonNode chunk : Recordings.chunksOf(axis, stream))
        if (resumed == null && chunk.hasNonNull("gatedFromTs")) resumed = chunk;
      double cutMs = resumed.path("position").asLong() / 8.0;
      double[] marked = markedMs("pause", stream);
      double from = marked[0];
      double to = marked[1];
      assertEquals(from, to, 0.01, stream + ": a cut has no length on the audio");
      assertEquals(cutMs, from, 100, stream + ": the pause is marked where the audio was cut");
      assertEquals(
          (removed.get(0).path("startMicros").asLong() - start) / 1000.0,
          from,
          1,
          stream + ": at the start of its removed span");
    }
    // The decline: silence of the customer's only, from the decline to the new consent,
    // less the pause cut before it.
    long[] consent = new long[2];
    int k = 0;
    for (JsonNode e : ledger.path("events"))
      if (e.path("type").asText().equals("ConsentChanged"))
        consent[k++] = micros(e.path("time").asText());
    JsonNode cut = Recordings.streamOf(axis, "customer").path("removed").get(0);
    long cutMicros = cut.path("endMicros").asLong() - cut.path("startMicros").asLong();
    assertEquals(
        List.of("customer"),
        browser.findElements(By.cssSelector("svg.timeline [data-kind='consent']")).stream()
            .map(e -> e.getAttribute("data-stream"))
            .toList(),
        "only the customer's stream is held");
    double heldFrom = markedMs("consent", "customer")[0];
    double heldTo = markedMs("consent", "customer")[1];
    double[] silence = longestSilenceMs(audio[1]);
    assertEquals(silence[0], heldFrom, 100, "the customer's silence starts with the decline");
    assertEquals(silence[1], heldTo, 100, "and ends with the new consent");
    assertEquals((consent[0] - start - cutMicros) / 1000.0, heldFrom, 1000, "the ledger's decline");
    assertEquals((consent[1] - start - cutMicros) / 1000.0, heldTo, 1000, "its new consent");
    assertFalse(
        browser.findElements(By.cssSelector("svg.timeline [data-kind='lost']")).isEmpty(),
        "the lost packets are marked");
    WebElement audioElement = browser.findElement(By.id("audio"));
    await(
        "the audio's metadata", () -> number("return arguments[0].readyState", audioElement) >= 1);
    assertEquals(
        audio[0].length / 8000.0, number("return arguments[0].duration", audioElement), 0.05);
    screenshot("supervisor-skip-call-page");
    screenshot(browser.findElement(By.id("recording")), "supervisor-skip-recording");
  }

  /**
   * The search finds the recorded call among the stopped ones, complete; a search for calls still
   * recording finds none (every call here was stopped); its link opens the call's page.
   */
  @Test
  void aSupervisorFindsTheCallInTheSearchAndOpensIt() throws Exception {
    browser.get(node.base() + "/console/calls.html?state=STOPPED");
    await("the sign-in form", () -> visible("sign-in-form"));
    signIn(TestKeys.SUPERVISOR);
    By row = By.cssSelector("#results tr[data-call='" + callId + "']");
    await("the call among the stopped ones", () -> !browser.findElements(row).isEmpty());
    assertEquals("STOPPED", browser.findElement(row).getAttribute("data-state"));
    assertEquals("true", browser.findElement(row).getAttribute("data-complete"));
    String shown = browser.findElement(row).getText();
    assertTrue(shown.contains("complete") && shown.contains("agent (agent, granted)"), shown);
    assertEquals(
        "STOPPED", browser.findElement(By.id("state")).getAttribute("value"), "the form shows it");
    screenshot("search-stopped");

    browser.findElement(By.xpath("//select[@id='state']/option[text()='RECORDING']")).click();
    browser.findElement(By.cssSelector("#search-form button[type='submit']")).click();
    await(
        "the search for calls recording",
        () -> text(By.id("results-status")).equals("No call matches."));
    assertTrue(browser.getCurrentUrl().contains("state=RECORDING"), browser.getCurrentUrl());
    assertTrue(browser.findElements(By.cssSelector("#results tbody tr")).isEmpty());

    browser.navigate().back();
    await("the stopped ones again", () -> !browser.findElements(row).isEmpty());
    browser.findElement(row).findElement(By.tagName("a")).click();
    awaitCallPage();
    assertEquals(callId, text(By.id("call-id")));
  }

  /**
   * The live view lists the node Up and reads it again by itself every two seconds: while a call is
   * recorded it shows the call and the packets arriving (50 a second per stream, 100 for the call),
   * and the total of the cluster.
   */
  @Test
  void theLiveViewShowsTheNodesCallsAndPacketsAndRefreshesItself() throws Exception {
    browser.get(node.base() + "/console/index.html");
    signIn(TestKeys.SUPERVISOR);
    await("the home page", () -> visible("open-form"));
    browser.findElement(By.linkText("Live")).click();
    By nodeRow = By.cssSelector("#nodes tbody tr[data-status='Up']");
    await("the node, Up", () -> !browser.findElements(nodeRow).isEmpty());
    String firstUpdate = text(By.id("updated"));
    await("a reading of its own", () -> !text(By.id("updated")).equals(firstUpdate));

    java.util.concurrent.CompletableFuture<Summary> recording =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                return LoadGenerator.run(eightSeconds("console-live", "{}"));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    // The most calls, packets per second on the node's row, and in the cluster's total, shown.
    double[] seen = new double[3];
    await(
        "the call and its packets",
        () -> {
          WebElement shown = browser.findElement(nodeRow);
          String calls = shown.getAttribute("data-calls");
          String rate = shown.findElement(By.className("received-rate")).getText();
          if (!calls.isEmpty()) seen[0] = Math.max(seen[0], Double.parseDouble(calls));
          if (!rate.isEmpty()) seen[1] = Math.max(seen[1], Double.parseDouble(rate));
          String total = text(By.id("packets-total"));
          if (total.matches("\\d+")) seen[2] = Math.max(seen[2], Double.parseDouble(total));
          return seen[0] >= 1 && seen[1] >= 50 && seen[2] >= 50;
        });
    screenshot("live");
    recording.get().requireActionsOk();
    assertEquals(1, seen[0], "the one call recorded");
    assertTrue(seen[1] >= 50 && seen[1] <= 150, "about 100 packets a second: " + seen[1]);
    assertTrue(seen[2] >= 50 && seen[2] <= 150, "the cluster's total, of its one node: " + seen[2]);
  }

  /** A key the node does not know returns to the sign-in form with the API's reason. */
  @Test
  void aRefusedCredentialReturnsToSignInWithTheReason() throws Exception {
    browser.get(node.base() + "/");
    await("the sign-in form", () -> visible("sign-in-form"));
    signIn("cvk_nobody_" + "x".repeat(43));
    await("the refusal", () -> visible("sign-in-message"));
    String message = text(By.id("sign-in-message"));
    assertTrue(message.startsWith("The API refused the credential"), message);
    assertTrue(visible("sign-in-form"));
    assertEquals(
        null,
        ((JavascriptExecutor) browser)
            .executeScript("return sessionStorage.getItem('callvault.credential')"));
  }

  // -------------------------------------------------------------------------------- helpers

  /** One call of eight seconds from the load generator under {@code policy}, stopped at its end. */
  private static Options eightSeconds(String prefix, String policy) {
    return new Options()
        .apiKey(TestKeys.ALL)
        .api(node.base())
        .prefix(prefix + "-" + UUID.randomUUID().toString().substring(0, 8))
        .calls(1)
        .codec(Codec.PCMU)
        .policy(policy)
        .stopCallsAtEnd(true)
        .stopDelay(Duration.ofMillis(300))
        .failOnActionError(true)
        .duration(Duration.ofSeconds(8));
  }

  private void signIn(String key) {
    // The form is shown by the page's script: once it is, submitting goes through the script.
    await("the sign-in form", () -> visible("sign-in-form"));
    WebElement field = browser.findElement(By.id("credential"));
    field.clear();
    field.sendKeys(key);
    browser.findElement(By.cssSelector("#sign-in-form button")).click();
  }

  /** Waits for the call's page drawn with its audio (the picture is drawn again once it loads). */
  private void awaitCallPage() {
    await(
        "the call's page",
        () ->
            browser.getCurrentUrl().contains("/console/call.html?id=")
                && !browser
                    .findElements(By.cssSelector("svg.timeline [data-kind='pause']"))
                    .isEmpty()
                && !browser.findElements(By.cssSelector("#ledger tbody tr")).isEmpty()
                && text(By.id("audio-status")).contains("of audio"));
  }

  /** Where the picture marks the span of {@code kind} on {@code stream}: [start, end] in ms. */
  private double[] markedMs(String kind, String stream) {
    WebElement span =
        browser.findElement(
            By.cssSelector(
                "svg.timeline [data-kind='" + kind + "'][data-stream='" + stream + "']"));
    return new double[] {
      Double.parseDouble(span.getAttribute("data-start-ms")),
      Double.parseDouble(span.getAttribute("data-end-ms"))
    };
  }

  private boolean visible(String id) {
    List<WebElement> found = browser.findElements(By.id(id));
    return !found.isEmpty() && found.get(0).isDisplayed();
  }

  private String text(By by) {
    return browser.findElement(by).getText();
  }

  private double number(String script, WebElement element) {
    Object value = ((JavascriptExecutor) browser).executeScript(script, element);
    return value == null ? Double.NaN : ((Number) value).doubleValue();
  }

  /** Waits up to 30 s for {@code condition}, failing with what the page shows then. */
  private void await(String what, Supplier<Boolean> condition) {
    Instant deadline = Instant.now().plusSeconds(30);
    while (Instant.now().isBefore(deadline)) {
      try {
        if (condition.get()) return;
      } catch (org.openqa.selenium.WebDriverException changing) {
        // The page is being replaced (a navigation): ask again.
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
    screenshot(testName + "-timeout");
    throw new AssertionError(
        "no " + what + " within 30 s at " + browser.getCurrentUrl() + ":\n" + pageText());
  }

  private String pageText() {
    try {
      return browser.findElement(By.tagName("body")).getText();
    } catch (org.openqa.selenium.WebDriverException e) {
      return "(the page could not be read: " + e.getMessage() + ")";
    }
  }

  private void screenshot(String name) {
    screenshot(browser, name);
  }

  private void screenshot(TakesScreenshot source, String name) {
    try {
      Files.copy(
          source.getScreenshotAs(OutputType.FILE).toPath(),
          SCREENSHOTS.resolve(name + ".png"),
          StandardCopyOption.REPLACE_EXISTING);
    } catch (Exception e) {
      // A screenshot is evidence for a person, not part of what the test checks.
      System.err.println("no screenshot " + name + ": " + e);
    }
  }

  private static long micros(String iso) {
    Instant t = Instant.parse(iso);
    return t.getEpochSecond() * 1_000_000 + t.getNano() / 1000;
  }

  /** The longest run of silent samples (exact zeros) in {@code samples}: [from, to) in ms. */
  private static double[] longestSilenceMs(short[] samples) {
    int bestFrom = 0;
    int bestLength = 0;
    int from = -1;
    for (int i = 0; i <= samples.length; i++) {
      boolean silent = i < samples.length && samples[i] == 0;
      if (silent && from < 0) from = i;
      if (!silent && from >= 0) {
        if (i - from > bestLength) {
          bestLength = i - from;
          bestFrom = from;
        }
        from = -1;
      }
    }
    return new double[] {bestFrom / 8.0, (bestFrom + bestLength) / 8.0};
  }
}
