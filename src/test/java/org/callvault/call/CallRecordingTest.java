package org.callvault.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess$;
import org.apache.pekko.persistence.testkit.StorageFailure;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.testkit.ExplicitlyTriggeredScheduler;
import org.callvault.call.CallRecording.Accepted;
import org.callvault.call.CallRecording.Rejected;
import org.callvault.call.CallRecording.Rejection;
import org.callvault.call.CallRecording.Reply;
import org.callvault.call.Party.Consent;
import org.callvault.call.Party.Role;
import org.callvault.call.Policy.ConsentMode;
import org.callvault.call.Policy.OnDecline;
import org.callvault.call.Policy.PauseRendering;
import org.callvault.core.ChunkInfo;
import org.callvault.core.Codec;
import org.callvault.core.GapCause;
import org.callvault.core.MediaReport;
import org.callvault.core.ReleaseReason;
import org.callvault.core.StreamCounters;
import org.callvault.core.StreamSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CallRecordingTest {

  private static final ActorTestKit testKit =
      ActorTestKit.create(
          ManualTime.config()
              .withFallback(EventSourcedBehaviorTestKit.config())
              .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
              .withFallback(ConfigFactory.load()));
  private static final ManualTime manualTime = ManualTime.get(testKit.system());

  /**
   * The manual time as a clock: an entity on it stamps its events with exactly the time the test
   * lets pass.
   */
  private static final Clock manualClock =
      new Clock() {
        private final ExplicitlyTriggeredScheduler scheduler =
            (ExplicitlyTriggeredScheduler) Adapter.toClassic(testKit.system()).scheduler();
        private final Instant origin = Instant.parse("2027-03-01T09:00:00Z");

        @Override
        public Instant instant() {
          return origin.plusMillis(scheduler.currentTimeMs());
        }

        @Override
        public ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
          throw new UnsupportedOperationException("the manual clock is in UTC");
        }
      };

  /** For a restart after a failed persist, whose backoff must pass in real time. */
  private static final ActorTestKit realTimeKit =
      ActorTestKit.create(
          EventSourcedBehaviorTestKit.config()
              .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
              .withFallback(ConfigFactory.load()));

  private final Gates gates = new Gates();
  private EventSourcedBehaviorTestKit<CallRecording.Command, Event, State> kit;

  @AfterEach
  void clearJournal() {
    if (kit != null) kit.persistenceTestKit().resetPolicy();
    PersistenceTestKit.create(realTimeKit.system()).resetPolicy();
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
    realTimeKit.shutdownTestKit();
  }

  // ------------------------------------------------------------------------------- fixtures

  private static Policy policy(ConsentMode mode, OnDecline onDecline, boolean pauseAllowed) {
    return new Policy(mode, onDecline, pauseAllowed, 300, PauseRendering.SILENCE, 90);
  }

  private static CallSpec twoPartySpec(String callId, Policy policy) {
    return new CallSpec(
        callId,
        policy,
        List.of(
            new CallSpec.PartySpec("agent", Role.AGENT, Consent.UNKNOWN),
            new CallSpec.PartySpec("customer", Role.CUSTOMER, Consent.UNKNOWN)),
        List.of(
            new StreamSpec("agent-leg", "agent", Codec.PCMU),
            new StreamSpec("customer-leg", "customer", Codec.PCMA)));
  }

  private Call created(Policy policy) {
    return created(policy, testKit);
  }

  private Call created(Policy policy, ActorTestKit in) {
    String callId = "call-" + UUID.randomUUID();
    kit = EventSourcedBehaviorTestKit.create(in.system(), rulesOnly(callId, Clock.systemUTC()));
    var result =
        kit.<Reply>runCommand(
            r -> new CallRecording.Create(twoPartySpec(callId, policy), "crm", r));
    return accepted(result.reply());
  }

  /**
   * A call on {@link #manualClock}; the pauseSeq of every AutoResume its entity receives goes into
   * {@code autoResumes}.
   */
  private Call createdOnManualTime(Policy policy, List<Long> autoResumes) {
    String callId = "call-" + UUID.randomUUID();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(), notingAutoResumes(rulesOnly(callId, manualClock), autoResumes));
    return accepted(
        kit.<Reply>runCommand(r -> new CallRecording.Create(twoPartySpec(callId, policy), "crm", r))
            .reply());
  }

  /**
   * The entity, noting the pauseSeq of each AutoResume it receives, before its own handling (which
   * ignores one for a pause that is not open): a timer that fires arrives here, a cancelled one
   * does not.
   */
  private static Behavior<CallRecording.Command> notingAutoResumes(
      Behavior<CallRecording.Command> entity, List<Long> received) {
    return Behaviors.intercept(
        () ->
            new BehaviorInterceptor<CallRecording.Command, CallRecording.Command>(
                CallRecording.Command.class) {
              @Override
              public Behavior<CallRecording.Command> aroundReceive(
                  TypedActorContext<CallRecording.Command> ctx,
                  CallRecording.Command msg,
                  ReceiveTarget<CallRecording.Command> target) {
                if (msg instanceof CallRecording.AutoResume autoResume)
                  received.add(autoResume.pauseSeq());
                return target.apply(ctx, msg);
              }
            },
        entity);
  }

  /** A call without media on its node, for tests of its rules. */
  private Behavior<CallRecording.Command> rulesOnly(String callId, Clock clock) {
    return CallRecording.create(callId, null, gates, clock, null, MediaMoves.NONE);
  }

  private static CallRecording.FromMedia media(MediaReport report) {
    return new CallRecording.FromMedia(report);
  }

  private static Call accepted(Reply reply) {
    return assertInstanceOf(Accepted.class, reply, () -> "expected Accepted, got " + reply).call();
  }

  private Reply consent(String party, Consent decision) {
    return kit.<Reply>runCommand(r -> new CallRecording.ChangeConsent(party, decision, "ivr", r))
        .reply();
  }

  private Reply pause() {
    return kit.<Reply>runCommand(r -> new CallRecording.Pause("card payment", "agent-7", r))
        .reply();
  }

  private Reply resume() {
    return kit.<Reply>runCommand(r -> new CallRecording.Resume("agent-7", r)).reply();
  }

  private Reply stop() {
    return kit.<Reply>runCommand(r -> new CallRecording.Stop("agent-7", r)).reply();
  }

  private Call current() {
    return accepted(kit.<Reply>runCommand(CallRecording.GetCall::new).reply());
  }

  /** The call once it satisfies {@code condition}, asking again until it does (3 s at most). */
  private Call awaitCall(java.util.function.Predicate<Call> condition) {
    long deadline = System.nanoTime() + 3_000_000_000L;
    while (true) {
      Call call = current();
      if (condition.test(call)) return call;
      if (System.nanoTime() > deadline)
        throw new AssertionError("the call never got there: " + call);
      Thread.onSpinWait();
    }
  }

  private void assertGates(boolean agent, boolean customer) {
    assertEquals(agent, gates.isOpen("agent-leg"), "agent-leg gate");
    assertEquals(customer, gates.isOpen("customer-leg"), "customer-leg gate");
    Call call = current();
    assertEquals(agent, call.gateOpen("agent-leg"), "agent-leg gate in the state");
    assertEquals(customer, call.gateOpen("customer-leg"), "customer-leg gate in the state");
  }

  private static Rejected rejected(Reply reply, Rejection expected) {
    Rejected rejected =
        assertInstanceOf(Rejected.class, reply, () -> "expected a rejection, got " + reply);
    assertEquals(expected, rejected.rejection(), rejected.message());
    return rejected;
  }

  /** Records, for every journal write, the gates as the media path sees them at that moment. */
  private List<String> gatesAtEachWrite() {
    List<String> seen = new CopyOnWriteArrayList<>();
    kit.persistenceTestKit()
        .withPolicy(
            new ProcessingPolicy<JournalOperation>() {
              @Override
              public ProcessingResult tryProcess(String persistenceId, JournalOperation op) {
                if (op instanceof WriteEvents write) {
                  for (Object e : scala.jdk.javaapi.CollectionConverters.asJava(write.batch())) {
                    seen.add(
                        ((Event) e).change().type()
                            + " agent="
                            + gates.isOpen("agent-leg")
                            + " customer="
                            + gates.isOpen("customer-leg"));
                  }
                }
                return ProcessingSuccess$.MODULE$;
              }
            });
    return seen;
  }

  // ---------------------------------------------------------------------------------- tests

  @Test
  void onePartyConsentOpensEveryGateFromTheStart() {
    Call call = created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    assertEquals(Phase.RECORDING, call.phase());
    assertGates(true, true);
  }

  @Test
  void allPartyConsentKeepsEveryGateClosedUntilTheLastConsent() {
    Call call = created(policy(ConsentMode.ALL_PARTY, OnDecline.STOP, true));
    assertEquals(Phase.AWAITING_CONSENT, call.phase());
    assertGates(false, false);

    Call afterAgent = accepted(consent("agent", Consent.GRANTED));
    assertEquals(Phase.AWAITING_CONSENT, afterAgent.phase());
    assertGates(false, false);

    Call afterCustomer = accepted(consent("customer", Consent.GRANTED));
    assertEquals(Phase.RECORDING, afterCustomer.phase());
    assertEquals(Consent.GRANTED, afterCustomer.party("customer").orElseThrow().consent());
    assertEquals("ivr", afterCustomer.party("customer").orElseThrow().consentBy());
    assertGates(true, true);
  }

  @Test
  void recordOthersClosesOnlyTheDeclinersStreams() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.RECORD_OTHERS, true));
    Call call = accepted(consent("customer", Consent.DECLINED));
    assertEquals(Phase.RECORDING, call.phase());
    assertGates(true, false);

    accepted(consent("customer", Consent.GRANTED));
    assertGates(true, true);
  }

  @Test
  void allPartyWithRecordOthersRecordsTheConsentingPartyAfterADecline() {
    created(policy(ConsentMode.ALL_PARTY, OnDecline.RECORD_OTHERS, true));
    accepted(consent("customer", Consent.DECLINED));
    assertGates(false, false);
    Call call = accepted(consent("agent", Consent.GRANTED));
    assertEquals(Phase.RECORDING, call.phase());
    assertGates(true, false);
  }

  @Test
  void aDeclineUnderStopClosesEveryGateForTheRestOfTheCall() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    Call call = accepted(consent("customer", Consent.DECLINED));
    assertEquals(Phase.CONSENT_REFUSED, call.phase());
    assertEquals("customer", call.haltedBy());
    assertGates(false, false);

    Call regranted = accepted(consent("customer", Consent.GRANTED));
    assertEquals(Phase.CONSENT_REFUSED, regranted.phase());
    assertGates(false, false);
    assertTrue(rejected(pause(), Rejection.CONFLICT).message().contains("halted"));
  }

  /**
   * The time the ledger gives a pause, a decline and a stop is read once their gates are closed, so
   * no audio let through is later than it (the sealing between could take long: the first event of
   * a kind is slow to encode, and a loaded machine can hold the thread). The resume's time is read
   * before its gates open.
   */
  @Test
  void aChangeIsTimedWhileTheGatesItClosesAreClosedAlready() {
    // Every reading of this clock is a millisecond after the one before; it notes the gates then.
    Map<Instant, String> gatesWhenRead = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicLong readings = new java.util.concurrent.atomic.AtomicLong();
    Clock noting =
        new Clock() {
          @Override
          public Instant instant() {
            Instant now =
                Instant.parse("2027-03-01T09:00:00Z").plusMillis(readings.incrementAndGet());
            gatesWhenRead.put(now, gates.isOpen("agent-leg") + "/" + gates.isOpen("customer-leg"));
            return now;
          }

          @Override
          public ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException("UTC only");
          }
        };
    String callId = "call-" + UUID.randomUUID();
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), rulesOnly(callId, noting));
    accepted(
        kit.<Reply>runCommand(
                r ->
                    new CallRecording.Create(
                        twoPartySpec(
                            callId, policy(ConsentMode.ONE_PARTY, OnDecline.RECORD_OTHERS, true)),
                        "crm",
                        r))
            .reply());
    assertGates(true, true);

    Instant pausedAt = accepted(pause()).pauses().get(0).start();
    assertEquals("false/false", gatesWhenRead.get(pausedAt), "the gates when the pause was timed");
    Instant resumedAt = accepted(resume()).pauses().get(0).end();
    assertEquals(
        "false/false", gatesWhenRead.get(resumedAt), "the gates when the resume was timed");
    assertGates(true, true);

    Instant declinedAt =
        accepted(consent("customer", Consent.DECLINED)).party("customer").orElseThrow().consentAt();
    assertEquals(
        "true/false", gatesWhenRead.get(declinedAt), "the gates when the decline was timed");
    Instant stoppedAt = accepted(stop()).stoppedAt();
    assertEquals("false/false", gatesWhenRead.get(stoppedAt), "the gates when the stop was timed");
  }

  @Test
  void withdrawingGrantedConsentClosesTheGatesBeforeTheWithdrawalIsPersisted() {
    created(policy(ConsentMode.ALL_PARTY, OnDecline.STOP, true));
    consent("agent", Consent.GRANTED);
    consent("customer", Consent.GRANTED);
    List<String> seen = gatesAtEachWrite();
    Call call = accepted(consent("customer", Consent.WITHDRAWN));
    assertEquals(List.of("ConsentChanged agent=false customer=false"), seen);
    assertEquals(Phase.CONSENT_REFUSED, call.phase());
  }

  @Test
  void onlyGrantedConsentCanBeWithdrawn() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    Rejected rejected = rejected(consent("customer", Consent.WITHDRAWN), Rejection.CONFLICT);
    assertTrue(
        rejected.message().contains("only GRANTED consent can be withdrawn"), rejected.message());
    assertEquals(1, current().seq());
  }

  @Test
  void repeatingAConsentDecisionChangesNothingAndSaysSo() {
    created(policy(ConsentMode.ALL_PARTY, OnDecline.STOP, true));
    consent("agent", Consent.GRANTED);
    var result =
        kit.<Reply>runCommand(
            r -> new CallRecording.ChangeConsent("agent", Consent.GRANTED, "ivr", r));
    assertTrue(result.hasNoEvents());
    assertTrue(((Accepted) result.reply()).note().contains("already GRANTED"));
  }

  @Test
  void consentOfAnUnknownPartyIsRefusedAsInvalid() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    Rejected rejected = rejected(consent("supervisor", Consent.GRANTED), Rejection.INVALID);
    assertTrue(rejected.message().contains("'supervisor' is not a party"), rejected.message());
    assertTrue(rejected.message().contains("agent, customer"), rejected.message());
  }

  @Test
  void pauseClosesTheGateBeforeThePauseIsPersisted() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    assertGates(true, true);
    List<String> seen = gatesAtEachWrite();
    Call call = accepted(pause());
    assertEquals(List.of("Paused agent=false customer=false"), seen);
    assertEquals(Phase.PAUSED, call.phase());
    assertEquals("card payment", call.openPause().orElseThrow().reason());
    assertGates(false, false);
  }

  @Test
  void resumeOpensTheGateOnlyAfterTheResumeIsPersisted() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    pause();
    List<String> seen = gatesAtEachWrite();
    Call call = accepted(resume());
    assertEquals(List.of("Resumed agent=false customer=false"), seen);
    assertEquals(Phase.RECORDING, call.phase());
    assertGates(true, true);
    PauseSpan span = call.pauses().get(0);
    assertEquals("agent-7", span.resumedBy());
    assertFalse(span.end().isBefore(span.start()));
  }

  @Test
  void consentOpensTheGatesOnlyAfterTheConsentIsPersisted() {
    created(policy(ConsentMode.ALL_PARTY, OnDecline.STOP, true));
    consent("agent", Consent.GRANTED);
    List<String> seen = gatesAtEachWrite();
    consent("customer", Consent.GRANTED);
    assertEquals(List.of("ConsentChanged agent=false customer=false"), seen);
    assertGates(true, true);
  }

  @Test
  void aFailedPersistLeavesTheGatesClosed() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true), realTimeKit);
    pause();
    kit.persistenceTestKit().failNextPersisted();
    realTimeKit.system().log().info("the next error about a failed persist is expected");
    var caller = realTimeKit.<Reply>createTestProbe();
    kit.runCommand(new CallRecording.Resume("agent-7", caller.ref()));
    caller.expectNoMessage(Duration.ofMillis(100));
    assertGates(false, false);
    assertEquals(Phase.PAUSED, current().phase());
  }

  /**
   * A journal that one call cannot reach: each write and read of its events fails as a storage
   * failure does, until {@link #reachable} is set. Each attempt is noted with the gates as the
   * media path sees them at that moment.
   */
  private final class UnreachableJournal implements ProcessingPolicy<JournalOperation> {
    private final String persistenceId;

    /** Per event written: its type and the gates, {@code "Paused agent=false customer=false"}. */
    final List<String> writes = new CopyOnWriteArrayList<>();

    /** Per read: the gates, {@code "agent=false customer=false"}. */
    final List<String> reads = new CopyOnWriteArrayList<>();

    volatile boolean reachable;

    UnreachableJournal(String persistenceId) {
      this.persistenceId = persistenceId;
    }

    @Override
    public ProcessingResult tryProcess(String persistenceId, JournalOperation op) {
      if (!persistenceId.equals(this.persistenceId) || reachable) return ProcessingSuccess$.MODULE$;
      String gatesNow =
          "agent=" + gates.isOpen("agent-leg") + " customer=" + gates.isOpen("customer-leg");
      if (op instanceof WriteEvents write) {
        for (Object e : scala.jdk.javaapi.CollectionConverters.asJava(write.batch()))
          writes.add(((Event) e).change().type() + " " + gatesNow);
      } else {
        reads.add(gatesNow);
      }
      return new StorageFailure(new IOException("the journal is unreachable (test)"));
    }
  }

  /**
   * What a request whose write failed left: what the journal saw, what it holds, the call once it
   * was back, and the answer its caller got then (null for none).
   */
  private record FailedWrite(
      List<String> writes,
      List<String> gatesAtEachRead,
      List<Event> stored,
      Call after,
      Reply answer,
      Instant reachableAt) {}

  /**
   * Creates a call under {@code policy} on the real-time kit, makes its journal unreachable and
   * sends it {@code request}; once the entity has failed to read its ledger twice after the failed
   * write, makes the journal reachable, waits up to 10 s for the request's answer, and asks for the
   * call. The call is spawned without the behaviour test kit, which would wait for that answer.
   */
  private FailedWrite failedWrite(
      Policy policy, java.util.function.Function<ActorRef<Reply>, CallRecording.Command> request) {
    return failedWrite(policy, List.of(), request);
  }

  /** As above, with the {@code before} requests carried out first, while the journal answers. */
  private FailedWrite failedWrite(
      Policy policy,
      List<java.util.function.Function<ActorRef<Reply>, CallRecording.Command>> before,
      java.util.function.Function<ActorRef<Reply>, CallRecording.Command> request) {
    return failedWrite(policy, before, request, null);
  }

  /** As above, on a node whose media {@code binder} binds (null: a node without media). */
  private FailedWrite failedWrite(
      Policy policy,
      List<java.util.function.Function<ActorRef<Reply>, CallRecording.Command>> before,
      java.util.function.Function<ActorRef<Reply>, CallRecording.Command> request,
      FakeBinder binder) {
    String callId = "call-" + UUID.randomUUID();
    ActorRef<CallRecording.Command> call =
        realTimeKit.spawn(
            binder == null
                ? rulesOnly(callId, Clock.systemUTC())
                : CallRecording.create(callId, null, gates, Clock.systemUTC(), binder, binder));
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    call.tell(new CallRecording.Create(twoPartySpec(callId, policy), "crm", replies.ref()));
    accepted(replies.receiveMessage());
    assertTrue(
        gates.isOpen("agent-leg") && gates.isOpen("customer-leg"),
        "one-party consent: recording from the start");
    for (var earlier : before) {
      call.tell(earlier.apply(replies.ref()));
      accepted(replies.receiveMessage());
    }

    PersistenceTestKit journal = PersistenceTestKit.create(realTimeKit.system());
    UnreachableJournal unreachable = new UnreachableJournal("CallRecording|" + callId);
    journal.withPolicy(unreachable);
    realTimeKit
        .system()
        .log()
        .info("the next errors about a failed persist and failed recoveries are expected");
    TestProbe<Reply> caller = realTimeKit.createTestProbe();
    call.tell(request.apply(caller.ref()));
    replies.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          assertTrue(unreachable.reads.size() >= 2, "two recoveries failed: " + unreachable.reads);
          return null;
        });
    List<String> writes = List.copyOf(unreachable.writes);
    List<String> reads = List.copyOf(unreachable.reads);
    Instant reachableAt = Instant.now();
    unreachable.reachable = true;

    Reply answer = null;
    try {
      answer = caller.receiveMessage(Duration.ofSeconds(10));
    } catch (AssertionError none) {
      // not asked again: nobody is answered
    }
    call.tell(new CallRecording.GetCall(replies.ref()));
    Call after = accepted(replies.receiveMessage(Duration.ofSeconds(10)));
    caller.expectNoMessage(Duration.ofMillis(100));
    List<Event> stored = new ArrayList<>();
    journal.persistedInStorage("CallRecording|" + callId).forEach(e -> stored.add((Event) e));
    realTimeKit.stop(call);
    return new FailedWrite(writes, reads, stored, after, answer, reachableAt);
  }

  /** The call as its stored events say it is. */
  private static Call foldOf(List<Event> stored) {
    CallSpec spec = ((Change.CallCreated) stored.get(0).change()).spec();
    Call call = Call.created(spec.callId(), spec, stored.get(0));
    for (Event e : stored.subList(1, stored.size())) call = call.apply(e);
    return call;
  }

  /**
   * A request that only closes gates, whose write failed, is carried out once the ledger answers
   * again: it is stored after the creation as {@code type}, its caller is answered with the call
   * after it, and the gates are what the ledger then says.
   */
  private void assertCarriedOutLater(FailedWrite failed, String type) {
    assertEquals(
        List.of("CallCreated", type),
        failed.stored().stream().map(e -> e.change().type()).toList(),
        "the request is in the ledger once it answers again");
    assertEquals(foldOf(failed.stored()), failed.after(), "the call is what its ledger says");
    assertEquals(2, failed.after().seq());
    Call answered =
        assertInstanceOf(Accepted.class, failed.answer(), "its caller is answered").call();
    assertEquals(failed.after(), answered);
    assertTrue(
        failed.stored().get(1).time().isBefore(failed.reachableAt()),
        "recorded at the time it was asked and took effect, not when the ledger answered again");
    assertEquals(failed.after().gateOpen("agent-leg"), gates.isOpen("agent-leg"));
    assertEquals(failed.after().gateOpen("customer-leg"), gates.isOpen("customer-leg"));
  }

  /**
   * What a request that arrived while the entity restarted after another write failed did: the
   * gates ({@code "agent/customer"}) once it had arrived and at each failed read after, the answer
   * once the journal was back, and when it arrived and when the journal came back.
   */
  private record ArrivedWhileRestarting(
      String gatesAtOnce, List<String> gatesAtReads, Call after, Instant asked, Instant back) {}

  /**
   * A call under {@code policy} whose consent grant's write fails (the journal unreachable, the
   * entity reading its ledger in vain), then {@code request}; the journal back after two more
   * failed reads.
   */
  private ArrivedWhileRestarting arrivingWhileRestarting(
      Policy policy, java.util.function.Function<ActorRef<Reply>, CallRecording.Command> request) {
    String callId = "call-" + UUID.randomUUID();
    ActorRef<CallRecording.Command> call = realTimeKit.spawn(rulesOnly(callId, Clock.systemUTC()));
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    call.tell(new CallRecording.Create(twoPartySpec(callId, policy), "crm", replies.ref()));
    accepted(replies.receiveMessage());
    PersistenceTestKit journal = PersistenceTestKit.create(realTimeKit.system());
    UnreachableJournal unreachable = new UnreachableJournal("CallRecording|" + callId);
    journal.withPolicy(unreachable);
    realTimeKit
        .system()
        .log()
        .info("the next errors about a failed persist and failed recoveries are expected");
    TestProbe<Reply> granting = realTimeKit.createTestProbe();
    call.tell(new CallRecording.ChangeConsent("agent", Consent.GRANTED, "ivr", granting.ref()));
    replies.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          assertTrue(unreachable.reads.size() >= 1, "a recovery failed: " + unreachable.reads);
          return null;
        });
    assertTrue(gates.isOpen("agent-leg") && gates.isOpen("customer-leg"), "still recording");

    Instant asked = Instant.now();
    TestProbe<Reply> asking = realTimeKit.createTestProbe();
    call.tell(request.apply(asking.ref()));
    String[] atOnce = new String[1];
    replies.awaitAssert(
        Duration.ofSeconds(1),
        () -> {
          atOnce[0] = gates.isOpen("agent-leg") + "/" + gates.isOpen("customer-leg");
          assertFalse(atOnce[0].equals("true/true"), "a gate closed at once");
          return null;
        });
    int readsBefore = unreachable.reads.size();
    replies.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          assertTrue(unreachable.reads.size() >= readsBefore + 2, "two more reads failed");
          return null;
        });
    List<String> reads =
        unreachable.reads.subList(readsBefore, unreachable.reads.size()).stream()
            .distinct()
            .toList();
    Instant back = Instant.now();
    unreachable.reachable = true;
    Call after = accepted(asking.receiveMessage(Duration.ofSeconds(10)));
    realTimeKit.stop(call);
    return new ArrivedWhileRestarting(atOnce[0], reads, after, asked, back);
  }

  /** {@code time} is when the request arrived, not when the journal came back. */
  private static void assertArrivedAt(ArrivedWhileRestarting r, Instant time) {
    assertTrue(
        !time.isBefore(r.asked().truncatedTo(java.time.temporal.ChronoUnit.MILLIS))
            && time.isBefore(r.asked().plusMillis(500))
            && time.isBefore(r.back()),
        "recorded when it arrived (" + r.asked() + "), not when the journal answered: " + time);
  }

  /**
   * A pause that arrives while the entity restarts after another write failed (the journal down,
   * its ledger read again and again): its gates close at once, stay closed through every failed
   * read, and once the journal answers the pause is stored at the time it arrived.
   */
  @Test
  void aPauseThatArrivesWhileTheEntityCannotReadItsLedgerClosesTheGatesAtOnce() {
    ArrivedWhileRestarting r =
        arrivingWhileRestarting(
            policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true),
            replyTo -> new CallRecording.Pause("card payment", "agent-7", replyTo));
    assertEquals("false/false", r.gatesAtOnce());
    assertEquals(List.of("agent=false customer=false"), r.gatesAtReads());
    assertEquals(Phase.PAUSED, r.after().phase());
    assertArrivedAt(r, r.after().pauses().get(0).start());
    assertFalse(gates.isOpen("agent-leg") || gates.isOpen("customer-leg"));
  }

  /** The same for a stop: every gate closed at once; stopped at the time it arrived. */
  @Test
  void aStopThatArrivesWhileTheEntityCannotReadItsLedgerClosesTheGatesAtOnce() {
    ArrivedWhileRestarting r =
        arrivingWhileRestarting(
            policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true),
            replyTo -> new CallRecording.Stop("agent-7", replyTo));
    assertEquals("false/false", r.gatesAtOnce());
    assertEquals(List.of("agent=false customer=false"), r.gatesAtReads());
    assertTrue(r.after().stopped());
    assertArrivedAt(r, r.after().stoppedAt());
  }

  /**
   * The same for a decline under {@code RECORD_OTHERS}: only the decliner's stream closes at once,
   * and the decline is recorded at the time it arrived.
   */
  @Test
  void aDeclineThatArrivesWhileTheEntityCannotReadItsLedgerClosesItsStreamAtOnce() {
    ArrivedWhileRestarting r =
        arrivingWhileRestarting(
            policy(ConsentMode.ONE_PARTY, OnDecline.RECORD_OTHERS, true),
            replyTo ->
                new CallRecording.ChangeConsent("customer", Consent.DECLINED, "ivr", replyTo));
    assertEquals("true/false", r.gatesAtOnce());
    assertEquals(List.of("agent=true customer=false"), r.gatesAtReads());
    assertEquals(Consent.DECLINED, r.after().party("customer").orElseThrow().consent());
    assertArrivedAt(r, r.after().party("customer").orElseThrow().consentAt());
    assertTrue(gates.isOpen("agent-leg") && !gates.isOpen("customer-leg"));
  }

  @Test
  void aPauseWhoseWriteFailsKeepsTheGatesClosedAndIsStoredOnceTheLedgerAnswers() {
    FailedWrite failed =
        failedWrite(
            policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true),
            r -> new CallRecording.Pause("card payment", "agent-7", r));
    assertEquals(
        List.of("Paused agent=false customer=false"),
        failed.writes(),
        "closed at the moment of the write");
    assertEquals(
        List.of("agent=false customer=false"),
        failed.gatesAtEachRead().stream().distinct().toList(),
        "closed at each failed read: " + failed.gatesAtEachRead());
    assertCarriedOutLater(failed, "Paused");
    assertEquals(Phase.PAUSED, failed.after().phase());
    assertEquals("card payment", failed.after().pauses().get(0).reason());
    assertFalse(gates.isOpen("agent-leg") || gates.isOpen("customer-leg"));
  }

  @Test
  void aPauseWhoseWriteFailsOnANodeWithMediaIsStoredOnceTheLedgerAnswers() {
    FakeBinder binder = new FakeBinder();
    FailedWrite failed =
        failedWrite(
            policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true),
            List.of(),
            r -> new CallRecording.Pause("card payment", "agent-7", r),
            binder);
    assertEquals(
        List.of("CallCreated", "MediaBound", "Paused"),
        failed.stored().stream().map(e -> e.change().type()).toList());
    assertEquals(Phase.PAUSED, failed.after().phase());
    assertInstanceOf(Accepted.class, failed.answer(), "its caller is answered");
    assertFalse(gates.isOpen("agent-leg") || gates.isOpen("customer-leg"));
    assertEquals(1, binder.binds, "the sockets were bound once");
  }

  @Test
  void aPauseWhoseWriteFailsIsStoredAmongTheListingsOfWhatTheSpoolHeld() throws Exception {
    String callId = "call-" + UUID.randomUUID();
    FakeBinder binder = new FakeBinder();
    ActorRef<CallRecording.Command> call = createdWithMedia(callId, binder);
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    PersistenceTestKit journal = PersistenceTestKit.create(realTimeKit.system());
    UnreachableJournal unreachable = new UnreachableJournal("CallRecording|" + callId);
    journal.withPolicy(unreachable);
    realTimeKit.system().log().info("the next errors about failed writes and reads are expected");
    TestProbe<Reply> caller = realTimeKit.createTestProbe();
    call.tell(new CallRecording.Pause("card", "qa", caller.ref()));
    replies.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          assertTrue(unreachable.reads.size() >= 3);
          return null;
        });
    long t0 = 1_800_000_000_000_000L;
    unreachable.reachable = true;
    // What the spool held is stored and reported as the journal answers again.
    for (int n = 0; n < 12; n++)
      call.tell(media(binder.written(chunkOf("agent-leg", 2, n, t0 + n * 1_000_000L))));
    accepted(caller.receiveMessage(Duration.ofSeconds(10)));
    List<String> types = new ArrayList<>();
    journal
        .persistedInStorage("CallRecording|" + callId)
        .forEach(e -> types.add(((Event) e).change().type()));
    assertTrue(types.contains("Paused"), types.toString());
    assertEquals(12, types.stream().filter("ChunkStored"::equals).count(), types.toString());
    assertFalse(gates.isOpen("agent-leg") || gates.isOpen("customer-leg"));
    realTimeKit.stop(call);
  }

  @Test
  void aDeclineWhoseWriteFailsClosesTheDeclinersGateOnlyAndIsStoredOnceTheLedgerAnswers() {
    FailedWrite failed =
        failedWrite(
            policy(ConsentMode.ONE_PARTY, OnDecline.RECORD_OTHERS, true),
            r -> new CallRecording.ChangeConsent("customer", Consent.DECLINED, "ivr", r));
    // Under RECORD_OTHERS the decline closes the customer's stream only; the agent's goes on
    // recording while the ledger cannot be written: media outlives a faltering journal.
    assertEquals(
        List.of("ConsentChanged agent=true customer=false"),
        failed.writes(),
        "the decliner's gate closed at the moment of the write");
    assertEquals(
        List.of("agent=true customer=false"),
        failed.gatesAtEachRead().stream().distinct().toList(),
        "the decliner's gate stays closed at each failed read: " + failed.gatesAtEachRead());
    assertCarriedOutLater(failed, "ConsentChanged");
    assertEquals(Consent.DECLINED, failed.after().party("customer").orElseThrow().consent());
    assertTrue(gates.isOpen("agent-leg") && !gates.isOpen("customer-leg"));
  }

  @Test
  void aStopWhoseWriteFailsKeepsTheGatesClosedAndIsStoredOnceTheLedgerAnswers() {
    FailedWrite failed =
        failedWrite(
            policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true),
            r -> new CallRecording.Stop("agent-7", r));
    assertEquals(
        List.of("Stopped agent=false customer=false"),
        failed.writes(),
        "closed at the moment of the write");
    assertEquals(
        List.of("agent=false customer=false"),
        failed.gatesAtEachRead().stream().distinct().toList(),
        "closed at each failed read: " + failed.gatesAtEachRead());
    assertCarriedOutLater(failed, "Stopped");
    assertEquals(Phase.STOPPED, failed.after().phase());
    assertFalse(gates.isOpen("agent-leg") || gates.isOpen("customer-leg"));
  }

  @Test
  void aListingWhoseWriteFailsLeavesTheSocketsRunningAndEveryChunkIsListedInOrderAfterwards() {
    String callId = "call-" + UUID.randomUUID();
    FakeBinder binder = new FakeBinder();
    ActorRef<CallRecording.Command> call = createdWithMedia(callId, binder);
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    long t0 = 1_800_000_000_000_000L;
    call.tell(media(binder.written(chunkOf("agent-leg", 2, 0, t0))));

    PersistenceTestKit journal = PersistenceTestKit.create(realTimeKit.system());
    UnreachableJournal unreachable = new UnreachableJournal("CallRecording|" + callId);
    replies.awaitAssert(
        () -> {
          assertEquals(3, journal.persistedInStorage("CallRecording|" + callId).size());
          return null;
        });
    journal.withPolicy(unreachable);
    realTimeKit.system().log().info("the next errors about failed writes and reads are expected");
    call.tell(media(binder.written(chunkOf("agent-leg", 2, 1, t0 + 1_000_000))));
    replies.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          assertTrue(unreachable.reads.size() >= 2, "two recoveries failed: " + unreachable.reads);
          return null;
        });
    // The sockets go on storing while the ledger cannot be written.
    call.tell(media(binder.written(chunkOf("agent-leg", 2, 2, t0 + 2_000_000))));
    assertEquals(
        List.of("agent=true customer=true"),
        unreachable.reads.stream().distinct().toList(),
        "the gates stay open while the ledger cannot be read: the call records");
    unreachable.reachable = true;

    replies.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          List<Long> listed = new ArrayList<>();
          journal.persistedInStorage("CallRecording|" + callId).stream()
              .map(e -> ((Event) e).change())
              .filter(c -> c instanceof Change.ChunkStored)
              .forEach(c -> listed.add(((Change.ChunkStored) c).chunk().n()));
          assertEquals(List.of(0L, 1L, 2L), listed, "every chunk listed once, in order");
          return null;
        });
    List<String> types = new ArrayList<>();
    journal
        .persistedInStorage("CallRecording|" + callId)
        .forEach(e -> types.add(((Event) e).change().type()));
    assertEquals(
        List.of("CallCreated", "MediaBound", "ChunkStored", "ChunkStored", "ChunkStored"),
        types,
        "no gap, no second binding");
    assertEquals(1, binder.binds, "the sockets were bound once");
    assertEquals(0, binder.closes, "and never closed");
    assertEquals(List.of(), binder.unlisted, "the sockets know every chunk is listed");
    assertTrue(gates.isOpen("agent-leg") && gates.isOpen("customer-leg"));
    realTimeKit.stop(call);
  }

  @Test
  void aStoppedCallPassivatesOnceItHasAnsweredAndAnActiveOneDoesNot() {
    String callId = "call-" + UUID.randomUUID();
    TestProbe<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard =
        realTimeKit.createTestProbe();
    ActorRef<CallRecording.Command> call =
        realTimeKit.spawn(
            CallRecording.create(
                callId, shard.ref(), gates, Clock.systemUTC(), null, MediaMoves.NONE));
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    call.tell(
        new CallRecording.Create(
            twoPartySpec(callId, policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true)),
            "crm",
            replies.ref()));
    accepted(replies.receiveMessage());
    call.tell(new CallRecording.GetCall(replies.ref()));
    accepted(replies.receiveMessage());
    shard.expectNoMessage(Duration.ofMillis(200)); // an active call stays: it records

    call.tell(new CallRecording.Stop("agent-7", replies.ref()));
    accepted(replies.receiveMessage());
    shard.expectMessageClass(
        org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.Passivate.class);
    // Read again (before sharding stopped it, or once it started it again): it answers, then goes.
    call.tell(new CallRecording.GetCall(replies.ref()));
    assertEquals(Phase.STOPPED, accepted(replies.receiveMessage()).phase());
    shard.expectMessageClass(
        org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.Passivate.class);
    realTimeKit.stop(call);
  }

  /**
   * Two clients at once on one call, 400 requests each (pause, resume, consent granted, declined
   * and withdrawn, for either party), then both stop it at once: every answer is the call or a
   * refusal with its reason, the gates the media path reads are what the ledger says before the
   * stop and closed after it, the ledger's chain verifies and the call is its fold.
   */
  @Test
  void twoClientsChangingOneCallAtOnceLeaveAVerifiableLedgerAndGatesThatMatchIt() throws Exception {
    for (OnDecline onDecline : OnDecline.values()) {
      String callId = "call-" + UUID.randomUUID();
      ActorRef<CallRecording.Command> call =
          realTimeKit.spawn(rulesOnly(callId, Clock.systemUTC()));
      TestProbe<Reply> created = realTimeKit.createTestProbe();
      call.tell(
          new CallRecording.Create(
              twoPartySpec(callId, policy(ConsentMode.ALL_PARTY, onDecline, true)),
              "crm",
              created.ref()));
      accepted(created.receiveMessage());
      java.util.concurrent.ConcurrentLinkedQueue<String> refusals =
          new java.util.concurrent.ConcurrentLinkedQueue<>();
      java.util.concurrent.atomic.AtomicInteger changed =
          new java.util.concurrent.atomic.AtomicInteger();
      List<Thread> clients = new ArrayList<>();
      for (int client = 0; client < 2; client++) {
        java.util.Random random = new java.util.Random(client * 31L + onDecline.ordinal());
        String by = "client-" + client;
        clients.add(
            new Thread(
                () -> {
                  for (int i = 0; i < 400; i++) {
                    String party = random.nextBoolean() ? "agent" : "customer";
                    java.util.function.Function<ActorRef<Reply>, CallRecording.Command> request =
                        switch (random.nextInt(4)) {
                          case 0 -> r -> new CallRecording.Pause("card", by, r);
                          case 1 -> r -> new CallRecording.Resume(by, r);
                          case 2 ->
                              r -> new CallRecording.ChangeConsent(party, Consent.GRANTED, by, r);
                          case 3 ->
                              r ->
                                  new CallRecording.ChangeConsent(
                                      party,
                                      random.nextBoolean() ? Consent.DECLINED : Consent.WITHDRAWN,
                                      by,
                                      r);
                          default -> throw new IllegalStateException();
                        };
                    Reply reply =
                        org.apache.pekko.actor.typed.javadsl.AskPattern
                            .<CallRecording.Command, Reply>ask(
                                call,
                                request::apply,
                                Duration.ofSeconds(10),
                                realTimeKit.system().scheduler())
                            .toCompletableFuture()
                            .join();
                    if (reply instanceof Rejected rejected) {
                      assertEquals(Rejection.CONFLICT, rejected.rejection(), rejected.message());
                      assertFalse(rejected.message().isBlank());
                      refusals.add(rejected.message());
                    } else {
                      assertInstanceOf(Accepted.class, reply);
                      changed.incrementAndGet();
                    }
                  }
                }));
      }
      clients.forEach(Thread::start);
      for (Thread t : clients) t.join(120_000);
      TestProbe<Reply> reader = realTimeKit.createTestProbe();
      call.tell(new CallRecording.GetCall(reader.ref()));
      Call before = accepted(reader.receiveMessage());
      assertTrue(changed.get() > 100 && !refusals.isEmpty(), changed + " / " + refusals.size());
      for (String label : List.of("agent-leg", "customer-leg"))
        assertEquals(before.gateOpen(label), gates.isOpen(label), before.phase() + ": " + label);
      var stops =
          java.util.stream.Stream.of("client-0", "client-1")
              .map(
                  by ->
                      org.apache.pekko.actor.typed.javadsl.AskPattern
                          .<CallRecording.Command, Reply>ask(
                              call,
                              r -> new CallRecording.Stop(by, r),
                              Duration.ofSeconds(10),
                              realTimeKit.system().scheduler())
                          .toCompletableFuture())
              .toList();
      long notes = 0;
      for (var stop : stops) if (((Accepted) stop.join()).note() != null) notes++;
      assertEquals(1, notes, "one stop stops it, the other finds it stopped and says so");
      call.tell(new CallRecording.GetCall(reader.ref()));
      Call end = accepted(reader.receiveMessage());
      assertEquals(Phase.STOPPED, end.phase());

      PersistenceTestKit journal = PersistenceTestKit.create(realTimeKit.system());
      Ledger.Verifier verifier = new Ledger.Verifier();
      List<Event> events = new ArrayList<>();
      journal.persistedInStorage("CallRecording|" + callId).forEach(e -> events.add((Event) e));
      for (int i = 0; i < events.size(); i++) verifier.accept(i + 1, events.get(i));
      assertTrue(verifier.result().valid(), verifier.result().toString());
      assertTrue(events.size() > 20, "the clients changed the call: " + events.size());
      assertEquals(foldOf(events), end, "the call is what its ledger says");
      for (String label : List.of("agent-leg", "customer-leg"))
        assertEquals(end.gateOpen(label), gates.isOpen(label), end.phase() + ": " + label);
      realTimeKit.stop(call);
    }
  }

  @Test
  void aGapWhoseWriteFailsIsWrittenAgainOnceTheLedgerAnswers() {
    String callId = "call-" + UUID.randomUUID();
    FakeBinder binder = new FakeBinder();
    ActorRef<CallRecording.Command> call = createdWithMedia(callId, binder);
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    PersistenceTestKit journal = PersistenceTestKit.create(realTimeKit.system());
    UnreachableJournal unreachable = new UnreachableJournal("CallRecording|" + callId);
    journal.withPolicy(unreachable);
    realTimeKit.system().log().info("the next errors about failed writes and reads are expected");
    long t0 = 1_800_000_000_000_000L;
    call.tell(
        media(
            new MediaReport.ChunkLost(
                "agent-leg", t0, t0 + 1_000_000, 50, GapCause.SPOOL_FULL, "the spool is full")));
    replies.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          assertTrue(unreachable.reads.size() >= 2, "two recoveries failed: " + unreachable.reads);
          return null;
        });
    assertEquals(List.of("MediaGap agent=true customer=true"), unreachable.writes);
    unreachable.reachable = true;
    replies.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          List<Change> gaps = new ArrayList<>();
          journal.persistedInStorage("CallRecording|" + callId).stream()
              .map(e -> ((Event) e).change())
              .filter(c -> c instanceof Change.MediaGap)
              .forEach(gaps::add);
          assertEquals(
              List.of(
                  new Change.MediaGap(
                      "agent-leg",
                      GapCause.SPOOL_FULL,
                      "the spool is full",
                      t0,
                      t0 + 1_000_000,
                      50)),
              gaps,
              "the gap is in the ledger once, as reported");
          return null;
        });
    realTimeKit.stop(call);
  }

  @Test
  void aNodeWithoutHeadroomRefusesNewCallsButRebindsTheCallsItRecords() {
    String callId = "call-" + UUID.randomUUID();
    TestProbe<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard =
        realTimeKit.createTestProbe();
    FakeBinder binder = new FakeBinder();
    ActorRef<CallRecording.Command> call =
        realTimeKit.spawn(
            CallRecording.create(callId, shard.ref(), gates, Clock.systemUTC(), binder, binder));
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    Policy onePartyConsent = policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true);
    call.tell(
        new CallRecording.Create(twoPartySpec(callId, onePartyConsent), "crm", replies.ref()));
    accepted(replies.receiveMessage());
    realTimeKit.stop(call);

    // The node is now past its capacity. The call it records comes back (as after an entity
    // restart) and binds its sockets again; a new call is refused, and nothing of it is kept.
    FakeBinder full = new FakeBinder();
    full.refusesNewCalls = "its media event loops ran 80 ms late in the last second";
    ActorRef<CallRecording.Command> again =
        realTimeKit.spawn(
            CallRecording.create(callId, shard.ref(), gates, Clock.systemUTC(), full, full));
    again.tell(new CallRecording.GetCall(replies.ref()));
    assertEquals(Phase.RECORDING, accepted(replies.receiveMessage()).phase());
    replies.awaitAssert(
        Duration.ofSeconds(10),
        () -> {
          assertEquals(1, full.binds, "the recording call's sockets are bound again");
          return null;
        });

    String newId = "call-" + UUID.randomUUID();
    ActorRef<CallRecording.Command> refused =
        realTimeKit.spawn(
            CallRecording.create(newId, shard.ref(), gates, Clock.systemUTC(), full, full));
    refused.tell(
        new CallRecording.Create(twoPartySpec(newId, onePartyConsent), "crm", replies.ref()));
    Reply answer = replies.receiveMessage();
    Rejected rejected = assertInstanceOf(Rejected.class, answer);
    assertEquals(Rejection.UNAVAILABLE, rejected.rejection());
    assertTrue(rejected.message().contains("80 ms late"), rejected.message());
    assertEquals(1, full.binds, "no socket is bound for the refused call");
    refused.tell(new CallRecording.GetCall(replies.ref()));
    assertEquals(
        Rejection.NOT_FOUND,
        assertInstanceOf(Rejected.class, replies.receiveMessage()).rejection());
    realTimeKit.stop(again);
    realTimeKit.stop(refused);
  }

  @Test
  void aStoppedCallWhoseSocketsWereReleasedIsReadWithoutAskingStorageAndPassivates() {
    String callId = "call-" + UUID.randomUUID();
    TestProbe<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard =
        realTimeKit.createTestProbe();
    FakeBinder binder = FakeBinder.reportingClosed();
    ActorRef<CallRecording.Command> call =
        realTimeKit.spawn(
            CallRecording.create(callId, shard.ref(), gates, Clock.systemUTC(), binder, binder));
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    call.tell(
        new CallRecording.Create(
            twoPartySpec(callId, policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true)),
            "crm",
            replies.ref()));
    accepted(replies.receiveMessage());
    call.tell(new CallRecording.Stop("crm", replies.ref()));
    accepted(replies.receiveMessage());
    shard.expectMessageClass(
        org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.Passivate.class);
    realTimeKit.stop(call);

    // Read again by a new incarnation (as after a node start): the ledger says the sockets were
    // released after all they stored was listed, so storage holds nothing more to adopt.
    FakeBinder later = new FakeBinder();
    ActorRef<CallRecording.Command> again =
        realTimeKit.spawn(
            CallRecording.create(callId, shard.ref(), gates, Clock.systemUTC(), later, later));
    again.tell(new CallRecording.GetCall(replies.ref()));
    Call read = accepted(replies.receiveMessage());
    assertEquals(Phase.STOPPED, read.phase());
    assertEquals(ReleaseReason.STOPPED, read.media().released());
    shard.expectMessageClass(
        org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.Passivate.class);
    assertEquals(0, later.lookups, "storage is not asked");
    assertEquals(0, later.binds, "and no socket is bound");
    realTimeKit.stop(again);
  }

  @Test
  void aResumeWhoseWriteFailsIsNotCarriedOutLaterAndTheGatesStayClosed() {
    FailedWrite failed =
        failedWrite(
            policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true),
            List.of(r -> new CallRecording.Pause("card payment", "agent-7", r)),
            r -> new CallRecording.Resume("agent-7", r));
    assertEquals(List.of("Resumed agent=false customer=false"), failed.writes());
    assertEquals(
        List.of("agent=false customer=false"),
        failed.gatesAtEachRead().stream().distinct().toList());
    assertNull(failed.answer(), "a request that would open a gate is not asked again");
    assertEquals(
        List.of("CallCreated", "Paused"),
        failed.stored().stream().map(e -> e.change().type()).toList());
    assertEquals(Phase.PAUSED, failed.after().phase());
    assertFalse(gates.isOpen("agent-leg") || gates.isOpen("customer-leg"));
  }

  @Test
  void aPauseIsRefusedWithTheReasonWhenThePolicyForbidsIt() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, false));
    Rejected rejected = rejected(pause(), Rejection.CONFLICT);
    assertTrue(rejected.message().contains("pauseAllowed=false"), rejected.message());
    assertGates(true, true);
  }

  @Test
  void pausingAPausedCallChangesNothingAndSaysSo() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    pause();
    var again = kit.<Reply>runCommand(r -> new CallRecording.Pause("another", "agent-8", r));
    assertTrue(again.hasNoEvents());
    String note = ((Accepted) again.reply()).note();
    assertTrue(note.contains("already paused") && note.contains("card payment"), note);
    assertEquals(1, current().pauses().size());
  }

  @Test
  void resumingACallThatIsNotPausedChangesNothingAndSaysSo() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    var result = kit.<Reply>runCommand(r -> new CallRecording.Resume("agent-7", r));
    assertTrue(result.hasNoEvents());
    assertTrue(((Accepted) result.reply()).note().contains("not paused"));
  }

  @Test
  void aPauseLongerThanMaxPauseSecondsResumesAutomaticallyAsTheSystem() {
    created(new Policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true, 30, PauseRendering.SKIP, 90));
    pause();
    manualTime.timePasses(Duration.ofSeconds(29));
    assertEquals(Phase.PAUSED, current().phase());
    manualTime.timePasses(Duration.ofSeconds(2));
    Call call = current();
    assertEquals(Phase.RECORDING, call.phase());
    PauseSpan span = call.pauses().get(0);
    assertEquals(CallRecording.SYSTEM, span.resumedBy());
    assertEquals("the pause exceeded maxPauseSeconds (30 s)", span.resumeReason());
    assertGates(true, true);
    assertEquals(3, call.seq());
  }

  @Test
  void aCallStopsItselfWithTheReasonOnceItHasLastedItsMaxDuration() {
    Call call =
        createdOnManualTime(
            new Policy(
                ConsentMode.ONE_PARTY,
                OnDecline.STOP,
                true,
                300,
                PauseRendering.SILENCE,
                90,
                60,
                null),
            new CopyOnWriteArrayList<>());
    manualTime.timePasses(Duration.ofSeconds(55));
    assertEquals(Phase.RECORDING, current().phase(), "55 s: still recording");
    manualTime.timePasses(Duration.ofSeconds(10));
    Call stopped = current();
    assertEquals(Phase.STOPPED, stopped.phase(), "60 s: stopped (checked every 5 s)");
    assertEquals(CallRecording.SYSTEM, stopped.stoppedBy());
    long after = Duration.between(call.createdAt(), stopped.stoppedAt()).toSeconds();
    assertTrue(after >= 60 && after <= 65, "stopped " + after + " s after its creation");
    assertEquals(
        "the call reached its maximum duration of 60 s (maxDurationSeconds)",
        ((Change.Stopped) lastEvent(stopped).change()).reason());
    assertGates(false, false);
  }

  @Test
  void aCallWhoseStreamsReceiveNothingForNoMediaSecondsStopsItselfAndOneThatReceivesDoesNot() {
    FakeBinder binder = new FakeBinder();
    String callId = "call-" + UUID.randomUUID();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            CallRecording.create(callId, null, gates, manualClock, binder, binder));
    Policy policy =
        new Policy(
            ConsentMode.ONE_PARTY, OnDecline.STOP, true, 300, PauseRendering.SILENCE, 90, null, 30);
    Instant t0 = manualClock.instant();
    accepted(
        kit.<Reply>runCommand(r -> new CallRecording.Create(twoPartySpec(callId, policy), "crm", r))
            .reply());
    // Each step lets 5 s pass and waits for the entity to have checked (its state is read after).
    for (int s = 0; s < 12; s++) { // a minute of media
      binder.received.addAndGet(250);
      manualTime.timePasses(Duration.ofSeconds(5));
      current();
    }
    assertEquals(Phase.RECORDING, current().phase(), "a minute of media: recording");
    for (int s = 0; s < 5; s++) { // the sender is gone
      manualTime.timePasses(Duration.ofSeconds(5));
      current();
    }
    assertEquals(Phase.RECORDING, current().phase(), "25 s without media: still recording");
    manualTime.timePasses(Duration.ofSeconds(5));
    current();
    manualTime.timePasses(Duration.ofSeconds(5));
    Call stopped = current();
    assertEquals(Phase.STOPPED, stopped.phase(), "30 s without media: stopped");
    assertEquals(CallRecording.SYSTEM, stopped.stoppedBy());
    long silentFrom = Duration.between(t0, stopped.stoppedAt()).toSeconds();
    assertTrue(silentFrom >= 90 && silentFrom <= 95, "stopped at t0 + " + silentFrom + " s");
    assertEquals(
        "no media arrived for 30 s (noMediaSeconds): its sender is gone",
        ((Change.Stopped) lastEvent(stopped).change()).reason());
  }

  /**
   * A one-party two-stream call created on the real-time kit, its sockets bound by {@code binder}
   * under the first epoch (2); its entity.
   */
  private ActorRef<CallRecording.Command> createdWithMedia(String callId, FakeBinder binder) {
    ActorRef<CallRecording.Command> call =
        realTimeKit.spawn(
            CallRecording.create(callId, null, gates, Clock.systemUTC(), binder, binder));
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    call.tell(
        new CallRecording.Create(
            twoPartySpec(callId, policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true)),
            "crm",
            replies.ref()));
    assertEquals(2, accepted(replies.receiveMessage()).mediaEpoch());
    return call;
  }

  /** The call's last event, from the journal. */
  private Event lastEvent(Call call) {
    List<Event> events = new ArrayList<>();
    kit.persistenceTestKit()
        .persistedInStorage("CallRecording|" + call.callId())
        .forEach(e -> events.add((Event) e));
    return events.get(events.size() - 1);
  }

  @Test
  void aManualResumeCancelsTheAutomaticOne() {
    // Two things keep a manual resume from leaving an automatic one behind: the resume cancels the
    // pause's timer, and an AutoResume whose pauseSeq is not the open pause's is ignored. Behind
    // that guard a timer left running changes nothing the call shows, so this test watches the
    // timer itself; aSecondPauseLastsItsOwnMaxPauseAfterAManualResume tests the guard.
    List<Long> autoResumes = new CopyOnWriteArrayList<>();
    createdOnManualTime(
        new Policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true, 30, PauseRendering.SILENCE, 90),
        autoResumes);
    Instant t0 = manualClock.instant();
    accepted(pause()); // seq 2: resumes on its own at t0 + 30 s unless resumed before
    manualTime.timePasses(Duration.ofSeconds(10));
    accepted(resume()); // seq 3, at t0 + 10 s
    manualTime.timePasses(Duration.ofSeconds(21)); // t0 + 31 s: past the pause's due time
    Call call = current();
    assertEquals(List.of(), autoResumes, "the resumed pause's timer never fired");
    assertEquals(Phase.RECORDING, call.phase());
    assertEquals(3, call.seq(), "nothing was persisted after the resume");
    PauseSpan span = call.pauses().get(0);
    assertEquals(t0, span.start());
    assertEquals(t0.plusSeconds(10), span.end());
    assertEquals("agent-7", span.resumedBy());
  }

  @Test
  void aSecondPauseLastsItsOwnMaxPauseAfterAManualResume() {
    // The first pause (t0) is resumed at t0 + 10 s and a second one starts at t0 + 20 s: the first
    // one's 30 s are up at t0 + 30 s, the second's at t0 + 50 s. Removing the resume's cancel does
    // not make this test fail: the second pause's timer has the same key and replaces any timer
    // of the first. What protects the second pause from an AutoResume of the first, should one
    // reach it, is the pauseSeq guard; the AutoResume sent at t0 + 30 s below is that message.
    List<Long> autoResumes = new CopyOnWriteArrayList<>();
    createdOnManualTime(
        new Policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true, 30, PauseRendering.SILENCE, 90),
        autoResumes);
    Instant t0 = manualClock.instant();
    long firstPause = accepted(pause()).seq();
    manualTime.timePasses(Duration.ofSeconds(10));
    accepted(resume());
    manualTime.timePasses(Duration.ofSeconds(10));
    long secondPause = accepted(pause()).seq();
    assertEquals(List.of(2L, 4L), List.of(firstPause, secondPause));

    manualTime.timePasses(Duration.ofSeconds(10)); // t0 + 30 s
    assertEquals(
        Phase.PAUSED,
        current().phase(),
        "the first pause's due time does not end the second pause");
    var stale = kit.runCommand(new CallRecording.AutoResume(firstPause));
    assertTrue(stale.hasNoEvents(), "an AutoResume of the first pause is ignored");
    assertEquals(secondPause, current().openPause().orElseThrow().startSeq());
    assertGates(false, false);

    manualTime.timePasses(Duration.ofMillis(19_999)); // t0 + 49.999 s
    assertEquals(Phase.PAUSED, current().phase());
    assertEquals(List.of(firstPause), autoResumes, "only the test's AutoResume so far");
    manualTime.timePasses(Duration.ofMillis(1)); // t0 + 50 s
    Call call = current();
    assertEquals(Phase.RECORDING, call.phase());
    assertEquals(
        List.of(firstPause, secondPause), autoResumes, "one timer fired: the second pause's");
    assertEquals(5, call.seq());
    PauseSpan second = call.pauses().get(1);
    assertEquals(t0.plusSeconds(20), second.start());
    assertEquals(t0.plusSeconds(50), second.end(), "the second pause lasted its own 30 s");
    assertEquals(CallRecording.SYSTEM, second.resumedBy());
    assertGates(true, true);
  }

  @Test
  void everyChangeAfterStopIsRefusedWithTheReason() {
    created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    Call stopped = accepted(stop());
    assertEquals(Phase.STOPPED, stopped.phase());
    assertEquals("agent-7", stopped.stoppedBy());
    assertGates(false, false);

    for (Reply reply : List.of(pause(), resume(), consent("agent", Consent.GRANTED))) {
      assertTrue(
          rejected(reply, Rejection.CONFLICT)
              .message()
              .contains("no change is accepted after stop"));
    }
    var again = kit.<Reply>runCommand(r -> new CallRecording.Stop("agent-7", r));
    assertTrue(again.hasNoEvents());
    assertTrue(((Accepted) again.reply()).note().contains("already stopped"));
  }

  @Test
  void creatingTheSameCallAgainIsIdempotentAndADifferentDefinitionConflicts() {
    Call call = created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    var same =
        kit.<Reply>runCommand(
            r -> new CallRecording.Create(twoPartySpec(call.callId(), call.policy()), "crm", r));
    assertTrue(same.hasNoEvents());
    assertEquals(call.callId(), accepted(same.reply()).callId());

    var different =
        kit.<Reply>runCommand(
            r ->
                new CallRecording.Create(
                    twoPartySpec(
                        call.callId(), policy(ConsentMode.ALL_PARTY, OnDecline.STOP, true)),
                    "crm",
                    r));
    assertTrue(different.hasNoEvents());
    rejected(different.reply(), Rejection.CONFLICT);
  }

  @Test
  void anInvalidSpecIsRefusedAndNothingIsPersisted() {
    String callId = "call-" + UUID.randomUUID();
    kit =
        EventSourcedBehaviorTestKit.create(testKit.system(), rulesOnly(callId, Clock.systemUTC()));
    CallSpec spec =
        new CallSpec(
            callId,
            policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true),
            List.of(new CallSpec.PartySpec("agent", Role.AGENT, Consent.UNKNOWN)),
            List.of(
                new StreamSpec("leg", "agent", Codec.PCMU),
                new StreamSpec("leg", "nobody", Codec.PCMU)));
    var result = kit.<Reply>runCommand(r -> new CallRecording.Create(spec, "crm", r));
    assertTrue(result.hasNoEvents());
    String message = rejected(result.reply(), Rejection.INVALID).message();
    assertTrue(message.contains("streams[1].label 'leg' is a duplicate"), message);
    assertTrue(message.contains("streams[1].party 'nobody' is not one of the parties"), message);
    assertInstanceOf(State.NoCall.class, kit.getState());
  }

  @Test
  void everyRequestToACallThatWasNeverCreatedIsAnsweredNotFound() {
    String callId = "call-" + UUID.randomUUID();
    kit =
        EventSourcedBehaviorTestKit.create(testKit.system(), rulesOnly(callId, Clock.systemUTC()));
    for (Reply reply :
        List.of(
            kit.<Reply>runCommand(CallRecording.GetCall::new).reply(),
            pause(),
            stop(),
            consent("agent", Consent.GRANTED))) {
      rejected(reply, Rejection.NOT_FOUND);
    }
  }

  @Test
  void everyEventIsChainedToThePreviousOneAndTheChainVerifies() {
    created(policy(ConsentMode.ALL_PARTY, OnDecline.RECORD_OTHERS, true));
    consent("agent", Consent.GRANTED);
    consent("customer", Consent.GRANTED);
    pause();
    resume();
    stop();
    List<Event> events = new ArrayList<>();
    kit.persistenceTestKit()
        .persistedInStorage("CallRecording|" + current().callId())
        .forEach(e -> events.add((Event) e));
    assertEquals(6, events.size());
    assertEquals(Ledger.GENESIS, events.get(0).prevHash());
    Ledger.Verifier verifier = new Ledger.Verifier();
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      assertEquals(i + 1, e.seq());
      if (i > 0) assertEquals(events.get(i - 1).hash(), e.prevHash());
      assertEquals(64, e.hash().length());
      verifier.accept(i + 1, e);
    }
    Ledger.Verification ok = verifier.result();
    assertTrue(ok.valid());
    assertEquals(6, ok.events());
    assertEquals(events.get(5).hash(), ok.lastHash());

    Event paused = events.get(3);
    Event altered =
        new Event(
            paused.seq(),
            paused.time(),
            "someone-else",
            paused.change(),
            paused.prevHash(),
            paused.hash());
    Ledger.Verifier tampered = new Ledger.Verifier();
    for (int i = 0; i < events.size(); i++)
      tampered.accept(i + 1, i == 3 ? altered : events.get(i));
    Ledger.Verification broken = tampered.result();
    assertFalse(broken.valid());
    assertEquals(4L, broken.brokenAt());
    assertTrue(broken.reason().contains("was altered"), broken.reason());
    assertNull(broken.lastHash());
  }

  @Test
  void aRecoveredCallHasTheSameStateAndReopensItsGatesOnlyAfterRecovery() {
    created(policy(ConsentMode.ALL_PARTY, OnDecline.RECORD_OTHERS, true));
    consent("agent", Consent.GRANTED);
    consent("customer", Consent.GRANTED);
    Call before = current();
    kit.restart();
    Call after = current();
    assertEquals(before, after);
    assertGates(true, true);
  }

  @Test
  void aCallRecoveredWhilePausedStillResumesAutomatically() {
    created(
        new Policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true, 60, PauseRendering.SILENCE, 90));
    pause();
    kit.restart();
    assertGates(false, false);
    manualTime.timePasses(Duration.ofSeconds(61));
    assertEquals(Phase.RECORDING, current().phase());
    assertGates(true, true);
  }

  @Test
  void aLongCallIsSnapshottedEveryThousandEventsAndRecoversTheSameWithItsChunkIndex() {
    Call call = created(policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true));
    for (long n = 0; n < 1000; n++) {
      ChunkInfo chunk =
          new ChunkInfo(
              "agent-leg",
              2,
              n,
              0,
              7,
              Codec.PCMU,
              n * 50,
              n * 50 + 49,
              n * 8000,
              (n + 1) * 8000,
              50,
              0,
              1_800_000_000_000_000L,
              0,
              0,
              null);
      kit.runCommand(
          media(
              new MediaReport.ChunkWritten(
                  chunk,
                  new StreamCounters(50 * (n + 1), 50 * (n + 1), 0, Map.of(), 0, 0, 0, n + 1, 0))));
    }
    Call before = current();
    assertEquals(1001, before.seq());
    assertEquals(999, before.media("agent-leg").lastN());
    assertEquals(50_000, before.media("agent-leg").packetsStored());
    // Snapshot number 1000 is taken; a repeated report of a listed chunk is not listed again.
    var again =
        kit.runCommand(
            media(
                new MediaReport.ChunkWritten(
                    new ChunkInfo(
                        "agent-leg", 2, 999, 0, 7, Codec.PCMU, 0, 0, 0, 0, 50, 0, 0, 0, 0, null),
                    StreamCounters.ZERO)));
    assertTrue(again.hasNoEvents(), "a chunk is listed once");
    kit.snapshotTestKit()
        .orElseThrow()
        .expectNextPersistedClass("CallRecording|" + call.callId(), Call.class);
    kit.restart();
    assertEquals(before, current());
  }

  /**
   * A one-party call whose media {@code binder} binds, with the first second of {@code agent-leg}
   * stored under its first epoch (2); its id.
   */
  /** A call with a chunk of audio listed, then stopped, its sockets closed. */
  private String stoppedCallWithAudio(FakeBinder binder) {
    String callId = callWithAudio(binder);
    kit.<Reply>runCommand(r -> new CallRecording.Stop("crm", r));
    kit.runCommand(media(new MediaReport.Closed(Map.of("agent-leg", StreamCounters.ZERO))));
    return callId;
  }

  private static String note(Reply reply) {
    return assertInstanceOf(Accepted.class, reply).note();
  }

  private Reply hold(boolean on, String reason) {
    return kit.<Reply>runCommand(r -> new Custody.SetLegalHold(on, reason, "user:co", r)).reply();
  }

  private Reply erase(Instant asOf, boolean whenDue) {
    return kit.<Reply>runCommand(
            r -> new Custody.Erase("erasure request", asOf, whenDue, "user:co", r))
        .reply();
  }

  @Test
  void aLegalHoldBlocksErasureUntilLiftedAndAnErasureDestroysTheKeysBeforeItIsRecorded() {
    FakeBinder binder = new FakeBinder();
    String callId = stoppedCallWithAudio(binder);
    assertTrue(accepted(hold(true, "litigation 2026-17")).compliance().held());
    Rejected held = rejected(erase(Instant.now(), false), Rejection.CONFLICT);
    assertTrue(
        held.message().contains("on legal hold") && held.message().contains("litigation 2026-17"),
        held.message());
    assertEquals(List.of(), binder.erased, "nothing destroyed under a hold");
    rejected(hold(true, null), Rejection.INVALID);
    assertTrue(note(hold(true, "again")).contains("already on legal hold"));

    assertFalse(accepted(hold(false, null)).compliance().held());
    Call erased = accepted(erase(Instant.now(), false));
    assertTrue(erased.compliance().erased());
    assertEquals("user:co", erased.compliance().erasedBy());
    assertEquals("erasure request", erased.compliance().erasedFor());
    assertEquals(
        List.of(callId + " {agent-leg={2=0}, customer-leg={}}"),
        binder.erased,
        "its keys and audio: the one chunk listed, stream agent-leg, epoch 2");
    assertTrue(note(erase(Instant.now(), false)).contains("already erased"));
    assertEquals(1, binder.erased.size(), "erased once");
    assertTrue(rejected(hold(true, "late"), Rejection.CONFLICT).message().contains("was erased"));
  }

  @Test
  void anErasureIsRefusedWhileRecordingAndWithinTheMinimumRetention() {
    FakeBinder binder = new FakeBinder();
    String callId = "call-" + UUID.randomUUID();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            CallRecording.create(callId, null, gates, Clock.systemUTC(), binder, binder));
    Policy mifid =
        new Policy(
            ConsentMode.ONE_PARTY,
            OnDecline.STOP,
            false,
            300,
            PauseRendering.SILENCE,
            2555,
            null,
            null,
            1825);
    kit.<Reply>runCommand(r -> new CallRecording.Create(twoPartySpec(callId, mifid), "crm", r));
    assertTrue(
        rejected(erase(Instant.now(), false), Rejection.CONFLICT)
            .message()
            .contains("stop it before"));
    Call stopped = accepted(stop());
    kit.runCommand(media(new MediaReport.Closed(Map.of())));
    Instant minimum = stopped.stoppedAt().plus(Duration.ofDays(1825));
    Rejected kept = rejected(erase(minimum.minusSeconds(1), false), Rejection.CONFLICT);
    assertTrue(kept.message().contains("must be kept until " + minimum), kept.message());
    assertEquals(List.of(), binder.erased);
    assertTrue(accepted(erase(minimum, false)).compliance().erased(), "from the minimum on");
  }

  /**
   * A stopped call read again asks to leave memory once it has recovered; an erasure asked then
   * keeps it until the erasure is recorded and answered, and it stops after.
   */
  @Test
  void aStoppedCallStopsOnlyOnceItsErasureIsRecorded() {
    String callId = "call-" + UUID.randomUUID();
    TestProbe<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard =
        realTimeKit.createTestProbe();
    FakeBinder binder = FakeBinder.reportingClosed();
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    createStopAndLeaveMemory(callId, shard, binder, replies);

    CompletableFuture<Void> destroying = new CompletableFuture<>();
    binder.nextErase = destroying;
    ActorRef<CallRecording.Command> again =
        realTimeKit.spawn(
            CallRecording.create(callId, shard.ref(), gates, Clock.systemUTC(), binder, binder));
    again.tell(
        new Custody.Erase("erasure request", Instant.now(), false, "user:co", replies.ref()));
    shard.expectMessageClass(
        org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.Passivate.class);
    again.tell(CallRecording.Passivate.INSTANCE); // sharding's stop message, while it erases
    TestProbe<Object> watcher = realTimeKit.createTestProbe();
    replies.expectNoMessage(Duration.ofMillis(300));
    destroying.complete(null);
    Call erased = accepted(replies.receiveMessage());
    assertTrue(erased.compliance().erased(), "recorded and answered before the stop");
    watcher.expectTerminated(again, Duration.ofSeconds(3));
  }

  @Test
  void anErasureWhoseKeysCannotBeDestroyedRecordsNothingAndCanBeAskedAgain() {
    FakeBinder binder = new FakeBinder();
    stoppedCallWithAudio(binder);
    binder.eraseFails = "Cassandra does not answer";
    Rejected failed = rejected(erase(Instant.now(), false), Rejection.UNAVAILABLE);
    assertTrue(failed.message().contains("Cassandra does not answer"), failed.message());
    assertFalse(current().compliance().erased(), "the ledger never says erased of what is not");
    binder.eraseFails = null;
    assertTrue(accepted(erase(Instant.now(), false)).compliance().erased());
  }

  @Test
  void theRetentionSweepErasesACallOnlyOnceItsRetentionHasPassed() {
    FakeBinder binder = new FakeBinder();
    stoppedCallWithAudio(binder);
    Call stopped = current();
    Instant due = stopped.stoppedAt().plus(Duration.ofDays(90));
    Accepted early =
        assertInstanceOf(
            Accepted.class,
            kit.<Reply>runCommand(
                    r ->
                        new Custody.Erase(
                            "retention", due.minusSeconds(60), true, RetentionSweep.BY, r))
                .reply());
    assertTrue(early.note().contains("kept until " + due), early.note());
    assertEquals(List.of(), binder.erased);
    Call erased =
        accepted(
            kit.<Reply>runCommand(
                    r -> new Custody.Erase("retention", due, true, RetentionSweep.BY, r))
                .reply());
    assertEquals(RetentionSweep.BY, erased.compliance().erasedBy());
    assertEquals(
        "its retention of 90 days after its stop ended at " + due, erased.compliance().erasedFor());
  }

  private String callWithAudio(FakeBinder binder) {
    String callId = "call-" + UUID.randomUUID();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            CallRecording.create(callId, null, gates, Clock.systemUTC(), binder, binder));
    kit.<Reply>runCommand(
        r ->
            new CallRecording.Create(
                twoPartySpec(callId, policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true)),
                "crm",
                r));
    kit.runCommand(
        media(
            new MediaReport.ChunkWritten(
                chunkOf("agent-leg", 2, 0, 1_800_000_000_000_000L), StreamCounters.ZERO)));
    return callId;
  }

  private static ChunkInfo chunkOf(String label, long epoch, long n, long startWall) {
    return chunkOf(label, epoch, n, startWall, n * 50);
  }

  /** A second of 50 packets of SSRC 7 from sequence number {@code firstSeq}. */
  private static ChunkInfo chunkOf(
      String label, long epoch, long n, long startWall, long firstSeq) {
    return new ChunkInfo(
        label,
        epoch,
        n,
        0,
        7,
        Codec.PCMU,
        firstSeq,
        firstSeq + 49,
        n * 8000,
        (n + 1) * 8000,
        50,
        0,
        startWall,
        startWall,
        startWall + 1_000_000,
        null);
  }

  @Test
  void aCallRecoveredFromSocketsThatWereNeverReleasedRecordsTheGapAsANodeFailure() {
    String callId = "call-" + UUID.randomUUID();
    FakeBinder binder = new FakeBinder();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            CallRecording.create(callId, null, gates, Clock.systemUTC(), binder, binder));
    Call created =
        accepted(
            kit.<Reply>runCommand(
                    r ->
                        new CallRecording.Create(
                            twoPartySpec(
                                callId, policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true)),
                            "crm",
                            r))
                .reply());
    assertEquals(2, created.mediaEpoch(), "the sockets are bound before the creation is answered");
    assertEquals(30000, created.endpoints().get("agent-leg").port());
    kit.runCommand(
        media(
            new MediaReport.ChunkWritten(
                chunkOf("agent-leg", 2, 0, 1_800_000_000_000_000L), StreamCounters.ZERO)));

    kit.restart(); // the node died: its sockets were never released
    Call recovered = awaitCall(c -> c.mediaEpoch() > 2);
    assertEquals(4, recovered.mediaEpoch(), "the recovered call bound new sockets");
    assertEquals(30100, recovered.endpoints().get("agent-leg").port());
    assertEquals(GapCause.NODE_FAILURE, recovered.media().moveCause());
    assertEquals(
        List.of("NODE_FAILURE null 30100 epoch 4"),
        binder.moves,
        "the move is signalled once, with the new endpoints and epoch");
    assertEquals(List.of(), binder.takeOvers, "a dead node relays nothing");

    // The last stored packet was 49, at the end of the first second; the next stored, 2.5 s
    // later, is 175: the 125 in between were lost.
    var first =
        kit.runCommand(
            media(
                new MediaReport.ChunkWritten(
                    chunkOf("agent-leg", 4, 0, 1_800_000_003_500_000L, 175), StreamCounters.ZERO)));
    List<Event> events = first.events();
    assertEquals(2, events.size());
    Change.MediaGap gap = (Change.MediaGap) events.get(0).change();
    assertEquals(GapCause.NODE_FAILURE, gap.cause());
    assertEquals(
        1_800_000_001_000_000L,
        gap.startWallMicros(),
        "from the end of the last audio stored before");
    assertEquals(1_800_000_003_500_000L, gap.endWallMicros(), "to the first audio stored after");
    assertEquals(125, gap.packets(), "the packets lost, from the sequence numbers on either side");
    assertInstanceOf(Change.ChunkStored.class, events.get(1).change());
    var second =
        kit.runCommand(
            media(
                new MediaReport.ChunkWritten(
                    chunkOf("agent-leg", 4, 1, 1_800_000_004_500_000L), StreamCounters.ZERO)));
    assertEquals(1, second.events().size(), "the gap is recorded once");
  }

  /**
   * A call created on {@code binder}, its first chunk listed, then recovered after its node died.
   */
  private String callRecoveredAfterANodeFailure(FakeBinder binder, long t0) {
    String callId = "call-" + UUID.randomUUID();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            CallRecording.create(callId, null, gates, Clock.systemUTC(), binder, binder));
    kit.<Reply>runCommand(
        r ->
            new CallRecording.Create(
                twoPartySpec(callId, policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true)),
                "crm",
                r));
    kit.runCommand(
        media(new MediaReport.ChunkWritten(chunkOf("agent-leg", 2, 0, t0), StreamCounters.ZERO)));
    kit.restart(); // the node died: its sockets were never released
    return callId;
  }

  @Test
  void aChunkTheDeadNodeSpooledAndStoredLaterIsListedOnceAfterTheCallMovedOn() {
    long t0 = 1_800_000_000_000_000L;
    callRecoveredAfterANodeFailure(new FakeBinder(), t0);
    awaitCall(c -> c.mediaEpoch() == 4);
    kit.runCommand(
        media(
            new MediaReport.ChunkWritten(
                chunkOf("agent-leg", 4, 0, t0 + 5_000_000, 250), StreamCounters.ZERO)));

    ChunkInfo late = chunkOf("agent-leg", 2, 1, t0 + 1_000_000);
    var listed = kit.runCommand(new CallMediaCommands.StoredLate(late));
    assertEquals(1, listed.events().size(), listed.events().toString());
    Change.ChunkStored stored = (Change.ChunkStored) listed.events().get(0).change();
    assertEquals(late, stored.chunk());
    assertTrue(stored.adopted());
    assertTrue(
        kit.runCommand(new CallMediaCommands.StoredLate(late)).events().isEmpty(), "listed once");
    MediaState.StreamMedia agent = current().media("agent-leg");
    assertEquals(3, agent.chunks());
    assertEquals(4, agent.epoch(), "the stream goes on in its newest epoch");
  }

  @Test
  void aChunkStoredLateWhileStorageIsAskedIsListedAfterWhatStorageHolds() {
    long t0 = 1_800_000_000_000_000L;
    FakeBinder binder = new FakeBinder();
    var lookup = new java.util.concurrent.CompletableFuture<List<ChunkInfo>>();
    binder.nextLookup = lookup;
    callRecoveredAfterANodeFailure(binder, t0);
    // Chunk 1 reached storage before the node died; chunk 2 was in its spool, stored only now.
    kit.runCommand(new CallMediaCommands.StoredLate(chunkOf("agent-leg", 2, 2, t0 + 2_000_000)));
    lookup.complete(List.of(chunkOf("agent-leg", 2, 1, t0 + 1_000_000)));
    // Chunk 3 comes right behind the lookup's answer, ahead of anything told to the entity then.
    kit.runCommand(new CallMediaCommands.StoredLate(chunkOf("agent-leg", 2, 3, t0 + 3_000_000)));
    Call call = awaitCall(c -> c.media("agent-leg").chunks() == 4);
    assertEquals(3, call.media("agent-leg").lastN(), "chunks 1, 2 and 3 in order: none skipped");
  }

  @Test
  void aStoppedCallListsAChunkStoredLateAndLeavesMemoryAgain() {
    long t0 = 1_800_000_000_000_000L;
    String callId = "call-" + UUID.randomUUID();
    TestProbe<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard =
        realTimeKit.createTestProbe();
    FakeBinder binder = FakeBinder.reportingClosed();
    TestProbe<Reply> replies = realTimeKit.createTestProbe();
    createStopAndLeaveMemory(callId, shard, binder, replies);

    ActorRef<CallRecording.Command> again =
        realTimeKit.spawn(
            CallRecording.create(callId, shard.ref(), gates, Clock.systemUTC(), binder, binder));
    again.tell(new CallMediaCommands.StoredLate(chunkOf("agent-leg", 2, 0, t0)));
    shard.expectMessageClass(
        org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.Passivate.class);
    again.tell(new CallRecording.GetCall(replies.ref()));
    Call read = accepted(replies.receiveMessage());
    assertEquals(Phase.STOPPED, read.phase());
    assertEquals(1, read.media("agent-leg").chunks(), "the chunk is listed");
    realTimeKit.stop(again);
  }

  /** Creates a call, stops it and lets it leave memory as sharding would, after its passivation. */
  private void createStopAndLeaveMemory(
      String callId,
      TestProbe<org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.ShardCommand> shard,
      FakeBinder binder,
      TestProbe<Reply> replies) {
    ActorRef<CallRecording.Command> call =
        realTimeKit.spawn(
            CallRecording.create(callId, shard.ref(), gates, Clock.systemUTC(), binder, binder));
    call.tell(
        new CallRecording.Create(
            twoPartySpec(callId, policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true)),
            "crm",
            replies.ref()));
    accepted(replies.receiveMessage());
    call.tell(new CallRecording.Stop("crm", replies.ref()));
    accepted(replies.receiveMessage());
    shard.expectMessageClass(
        org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.Passivate.class);
    realTimeKit.stop(call);
  }

  @Test
  void aCallWhoseSocketsWereReleasedRecordsNoFailureWhenItsStreamsMove() {
    FakeBinder binder = new FakeBinder();
    String callId = callWithAudio(binder);
    kit.<Reply>runCommand(r -> new CallRecording.Stop("crm", r));
    kit.runCommand(media(new MediaReport.Closed(Map.of("agent-leg", StreamCounters.ZERO))));
    Call stopped = current();
    assertEquals(ReleaseReason.STOPPED, stopped.media().released());
    kit.restart();
    assertEquals(
        2, current().mediaEpoch(), "a stopped call binds no sockets when it is read again");
    assertNull(current().media().moveCause());
  }

  @Test
  void anActiveCallHandedOffToAnotherNodeRecordsItsGapAsAHandoff() {
    FakeBinder binder = new FakeBinder();
    String callId = callWithAudio(binder);
    kit.runCommand(
        CallRecording.Passivate.INSTANCE); // the session stores what it holds, then reports Closed
    assertEquals(
        1, binder.handOffs, "the sockets are handed off, not closed: they relay to the next node");
    // The entity stops after recording the handoff, so the kit's read of its state after the
    // command goes unanswered; the ledger in storage says what happened.
    org.junit.jupiter.api.Assertions.assertThrows(
        AssertionError.class,
        () ->
            kit.runCommand(
                media(new MediaReport.Closed(Map.of("agent-leg", StreamCounters.ZERO)))));
    List<Object> stored = kit.persistenceTestKit().persistedInStorage("CallRecording|" + callId);
    Change.MediaReleased released =
        (Change.MediaReleased) ((Event) stored.get(stored.size() - 1)).change();
    assertEquals(ReleaseReason.HANDOFF, released.reason());

    kit.restart(); // the call on the node that takes it over
    Call moved = awaitCall(c -> c.mediaEpoch() > 4);
    assertEquals(GapCause.HANDOFF, moved.media().moveCause());
    assertEquals(1, binder.moves.size());
    assertEquals("HANDOFF null 30100 epoch " + moved.mediaEpoch(), binder.moves.get(0));
    assertEquals(
        List.of(Map.of(), Map.of("agent-leg", chunkOf("agent-leg", 2, 0, 1_800_000_000_000_000L))),
        binder.lastStored,
        "the new sockets learn the last chunk stored of each stream, to keep its sender's clock");
    // Ten packets (1..10 after the last stored, 49) never reached either node.
    var first =
        kit.runCommand(
            media(
                new MediaReport.ChunkWritten(
                    chunkOf("agent-leg", moved.mediaEpoch(), 0, 1_800_000_001_200_000L, 60),
                    StreamCounters.ZERO)));
    Change.MediaGap gap = (Change.MediaGap) first.events().get(0).change();
    assertEquals(GapCause.HANDOFF, gap.cause());
    assertEquals(200_000, gap.endWallMicros() - gap.startWallMicros());
    assertEquals(10, gap.packets());
  }

  @Test
  void aHandoffWhoseEveryPacketWasRelayedRecordsNoGap() {
    FakeBinder binder = new FakeBinder();
    String callId = callWithAudio(binder);
    kit.runCommand(CallRecording.Passivate.INSTANCE);
    org.junit.jupiter.api.Assertions.assertThrows(
        AssertionError.class,
        () ->
            kit.runCommand(
                media(new MediaReport.Closed(Map.of("agent-leg", StreamCounters.ZERO)))));
    kit.restart();
    Call moved = awaitCall(c -> c.mediaEpoch() > 4);
    // The first packet stored on the new node is the one after the last stored on the old: 50.
    var first =
        kit.runCommand(
            media(
                new MediaReport.ChunkWritten(
                    chunkOf("agent-leg", moved.mediaEpoch(), 0, 1_800_000_001_000_000L, 50),
                    StreamCounters.ZERO)));
    assertEquals(1, first.events().size(), "only the chunk: nothing was lost");
    assertInstanceOf(Change.ChunkStored.class, first.events().get(0).change());
  }

  @Test
  void aStreamWithNoAudioSinceItsMediaMovedHasItsGapRecordedAtTheStop() {
    FakeBinder binder = new FakeBinder();
    String callId = callWithAudio(binder);
    kit.restart(); // the node died
    awaitCall(c -> c.mediaEpoch() > 2);
    var stop = kit.<Reply>runCommand(r -> new CallRecording.Stop("crm", r));
    List<Event> events = stop.events();
    assertEquals(
        2, events.size(), "the agent's open gap, then the stop; the customer never had audio");
    Change.MediaGap gap = (Change.MediaGap) events.get(0).change();
    assertEquals("agent-leg", gap.label());
    assertEquals(GapCause.NODE_FAILURE, gap.cause());
    assertEquals(1_800_000_001_000_000L, gap.startWallMicros());
    assertEquals(
        events.get(1).time().toEpochMilli() * 1000,
        gap.endWallMicros(),
        100_000.0,
        "the gap ends at the stop");
    assertInstanceOf(Change.Stopped.class, events.get(1).change());
  }

  @Test
  void aRunningCallGainsPartiesAndStreamsBoundUnderItsEpochAndAPartyIsRenamed() {
    String callId = "call-" + UUID.randomUUID();
    FakeBinder binder = new FakeBinder();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            CallRecording.create(callId, null, gates, Clock.systemUTC(), binder, binder));
    kit.<Reply>runCommand(
        r ->
            new CallRecording.Create(
                twoPartySpec(callId, policy(ConsentMode.ONE_PARTY, OnDecline.STOP, true)),
                "crm",
                r));
    var amended =
        kit.<Reply>runCommand(
            r ->
                new CallRecording.Amend(
                    List.of(
                        new CallSpec.PartySpec(
                            "carol",
                            Party.Role.OTHER,
                            Party.Consent.UNKNOWN,
                            "Carol",
                            "sip:carol@example.com")),
                    List.of(new StreamSpec("carol-leg", "carol", Codec.PCMA)),
                    "sealed:PHJlY29yZGluZy8+",
                    "sip:192.0.2.7",
                    r));
    Call call = accepted(amended.reply());
    assertEquals(
        List.of("MetadataReceived", "PartyJoined", "StreamsAdded"),
        amended.events().stream().map(e -> e.change().type()).toList());
    assertEquals(
        new Change.MetadataReceived("sealed:PHJlY29yZGluZy8+"),
        amended.events().get(0).change(),
        "the metadata kept as it came, before what it changed");
    assertEquals("sip:carol@example.com", call.party("carol").orElseThrow().aor());
    assertEquals("carol-leg", call.streams().get(2).label());
    assertEquals(
        30004,
        call.endpoints().get("carol-leg").port(),
        "bound next to the call's other streams, in the same session");
    assertEquals(2, call.mediaEpoch(), "the epoch does not change: the other streams go on");
    assertTrue(
        gates.gate("carol-leg").isOpen(),
        "the new stream records under the call's policy (one-party consent)");

    var renamed =
        kit.<Reply>runCommand(
            r ->
                new CallRecording.Amend(
                    List.of(
                        new CallSpec.PartySpec(
                            "carol",
                            Party.Role.OTHER,
                            Party.Consent.UNKNOWN,
                            "Carol S.",
                            "sip:carol@example.com")),
                    List.of(),
                    null,
                    "sip",
                    r));
    assertEquals(
        List.of("PartyRenamed"), renamed.events().stream().map(e -> e.change().type()).toList());
    assertEquals("Carol S.", accepted(renamed.reply()).party("carol").orElseThrow().name());
    assertEquals(
        Party.Consent.UNKNOWN, accepted(renamed.reply()).party("carol").orElseThrow().consent());

    var same =
        kit.<Reply>runCommand(
            r ->
                new CallRecording.Amend(
                    List.of(),
                    List.of(new StreamSpec("carol-leg", "carol", Codec.PCMA)),
                    null,
                    "sip",
                    r));
    assertTrue(same.events().isEmpty(), "a known stream is left as it is");

    var refused =
        kit.<Reply>runCommand(
            r ->
                new CallRecording.Amend(
                    List.of(),
                    List.of(new StreamSpec("dave-leg", "dave", Codec.PCMU)),
                    null,
                    "sip",
                    r));
    assertTrue(refused.events().isEmpty());
    CallRecording.Rejected rejected =
        assertInstanceOf(CallRecording.Rejected.class, refused.reply());
    assertEquals(CallRecording.Rejection.INVALID, rejected.rejection());
    assertTrue(rejected.message().contains("'dave' is not one of the parties"), rejected.message());
  }
}
