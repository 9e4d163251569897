package org.callvault.sip;

import static org.callvault.sip.SipTestMessages.METADATA_BODY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.callvault.sip.RecordingMetadata.DataMode;
import org.callvault.sip.RecordingMetadata.StreamSender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordingMetadataTest {

  private static RecordingMetadata parse(String xml) throws SipParseException {
    return RecordingMetadata.parse(xml.getBytes(StandardCharsets.UTF_8));
  }

  private static String refusal(String xml) {
    SipParseException e = assertThrows(SipParseException.class, () -> parse(xml));
    assertEquals(400, e.statusCode());
    return e.reason();
  }

  private static String recording(String inner) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        + "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>\n"
        + inner
        + "\n</recording>";
  }

  @Test
  void theMetadataOfASiprecInviteTellsWhoSpeaksOnEachLabel() throws Exception {
    RecordingMetadata m = parse(METADATA_BODY);

    assertEquals(DataMode.COMPLETE, m.dataMode());
    assertEquals(1, m.sessions().size());
    assertEquals("0PdEJ5xu2vo4cVq3ukmsQw==", m.sessions().get(0).sessionId());
    assertEquals(
        List.of("ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000"),
        m.sessions().get(0).sipSessionIds());
    assertEquals(2, m.participants().size());
    assertEquals(Optional.of("sip:alice@example.com"), m.participants().get(0).aor());
    assertEquals(Optional.of("Alice"), m.participants().get(0).name());
    assertEquals(
        List.of(
            new RecordingMetadata.Stream(
                "UAAMm5GRQKSCMVvLyl4rFw==", "0PdEJ5xu2vo4cVq3ukmsQw==", Optional.of("1")),
            new RecordingMetadata.Stream(
                "i1Pz3to5hGk8fuXl+PbwCw==", "0PdEJ5xu2vo4cVq3ukmsQw==", Optional.of("2"))),
        m.streams());
    assertEquals(
        new RecordingMetadata.ParticipantStreamAssoc(
            "srfBElmCRp2QB23b7Mpk0w==",
            List.of("UAAMm5GRQKSCMVvLyl4rFw=="),
            List.of("i1Pz3to5hGk8fuXl+PbwCw==")),
        m.participantStreamAssocs().get(0));

    assertEquals(
        Map.of(
            "1",
            new StreamSender(
                "1",
                "UAAMm5GRQKSCMVvLyl4rFw==",
                "srfBElmCRp2QB23b7Mpk0w==",
                Optional.of("sip:alice@example.com"),
                Optional.of("Alice")),
            "2",
            new StreamSender(
                "2",
                "i1Pz3to5hGk8fuXl+PbwCw==",
                "zSfPoSvdSDCmU3A3TRDxAw==",
                Optional.of("sip:bob@example.com"),
                Optional.of("Bob"))),
        m.sendersByLabel());
    assertEquals("Bob", m.senderOf("2").orElseThrow().name().orElseThrow());
    assertEquals(Optional.empty(), m.senderOf("3"));
  }

  @Test
  void groupsSessionTimesAndAssociationsAreRead() throws Exception {
    RecordingMetadata m =
        parse(
            recording(
                """
                <dataMode>partial</dataMode>
                <group group_id="7+OTCyoxTmqmqyA/1weDAg==">
                  <associate-time>2010-12-16T23:41:07Z</associate-time>
                </group>
                <session session_id="hVpd7YQgRW2nD22h7q60JQ==">
                  <group-ref>7+OTCyoxTmqmqyA/1weDAg==</group-ref>
                  <sipSessionID>ab30317f1a784dc48ff824d0d3715d86;
                     remote=47755a9de7794ba387653f2099600ef2</sipSessionID>
                  <start-time>2010-12-16T23:41:07Z</start-time>
                  <stop-time>2010-12-16T23:43:07Z</stop-time>
                </session>
                <sessionrecordingassoc session_id="hVpd7YQgRW2nD22h7q60JQ==">
                  <associate-time>2010-12-16T23:41:07Z</associate-time>
                </sessionrecordingassoc>
                <participantsessionassoc participant_id="p1" session_id="hVpd7YQgRW2nD22h7q60JQ==">
                  <associate-time>2010-12-16T23:41:07Z</associate-time>
                  <disassociate-time>2010-12-16T23:42:00Z</disassociate-time>
                </participantsessionassoc>
                """));
    assertEquals(DataMode.PARTIAL, m.dataMode());
    assertEquals(
        new RecordingMetadata.Group(
            "7+OTCyoxTmqmqyA/1weDAg==", Optional.of("2010-12-16T23:41:07Z")),
        m.groups().get(0));
    RecordingMetadata.Session s = m.sessions().get(0);
    assertEquals(List.of("7+OTCyoxTmqmqyA/1weDAg=="), s.groupRefs());
    // A session id folded over two lines, as in RFC 7866 §12, reads as one line.
    assertEquals(
        List.of("ab30317f1a784dc48ff824d0d3715d86; remote=47755a9de7794ba387653f2099600ef2"),
        s.sipSessionIds());
    assertEquals(Optional.of("2010-12-16T23:43:07Z"), s.stopTime());
    assertEquals(
        new RecordingMetadata.SessionRecordingAssoc(
            "hVpd7YQgRW2nD22h7q60JQ==", Optional.of("2010-12-16T23:41:07Z"), Optional.empty()),
        m.sessionRecordingAssocs().get(0));
    assertEquals(
        new RecordingMetadata.ParticipantSessionAssoc(
            "p1",
            "hVpd7YQgRW2nD22h7q60JQ==",
            Optional.of("2010-12-16T23:41:07Z"),
            Optional.of("2010-12-16T23:42:00Z")),
        m.participantSessionAssocs().get(0));
  }

  @Test
  void unknownElementsAndVendorExtensionsAreIgnored() throws Exception {
    RecordingMetadata m =
        parse(
            recording(
                """
                <datamode>complete</datamode>
                <futureElement foo="bar"><participant participant_id="nested"/></futureElement>
                <callData xmlns='urn:example:vendor'>
                  <participant participant_id="vendor-not-ours"/>
                </callData>
                <participant participant_id="p1">
                  <nameID aor="sip:a@example.com"/>
                  <extra xmlns='urn:example:vendor'>x</extra>
                </participant>
                """));
    assertEquals(
        List.of("p1"),
        m.participants().stream().map(RecordingMetadata.Participant::participantId).toList());
    assertEquals(Optional.empty(), m.participants().get(0).name());
  }

  @Test
  void theDraftNamespaceAndSendRecvInsideAParticipantAreUnderstood() throws Exception {
    RecordingMetadata m =
        parse(
            """
            <recording xmlns='urn:ietf:params:xml:ns:recording'>
              <participant participant_id="p1">
                <nameID aor="sip:agent@example.com"><name>Agent 7</name></nameID>
                <send>s1</send>
                <recv>s2</recv>
              </participant>
              <stream stream_id="s1" session_id="cs"><label>1</label></stream>
            </recording>
            """);
    assertEquals(DataMode.COMPLETE, m.dataMode());
    assertEquals(
        new StreamSender(
            "1", "s1", "p1", Optional.of("sip:agent@example.com"), Optional.of("Agent 7")),
        m.senderOf("1").orElseThrow());
  }

  @Test
  void escapedCharactersAndCharacterReferencesAreDecoded() throws Exception {
    RecordingMetadata m =
        parse(
            recording(
                "<participant participant_id=\"p1\"><nameID aor=\"sip:a@example.com\"><name>Smith"
                    + " &amp; Sons &#233;&lt;3</name></nameID></participant>"));
    assertEquals(Optional.of("Smith & Sons é<3"), m.participants().get(0).name());
  }

  @Test
  void streamsWithoutLabelOrWithoutSenderHaveNoEntryInTheLookup() throws Exception {
    RecordingMetadata m =
        parse(
            recording(
                """
                <participant participant_id="p1"><nameID aor="sip:a@example.com"/></participant>
                <stream stream_id="mixed" session_id="cs"><label>9</label></stream>
                <stream stream_id="nolabel" session_id="cs"/>
                <participantstreamassoc participant_id="p1"><send>nolabel</send><recv>mixed</recv></participantstreamassoc>
                """));
    assertEquals(Map.of(), m.sendersByLabel());
  }

  @Test
  void aSenderThatIsNotAKnownParticipantStillMapsWithoutName() throws Exception {
    RecordingMetadata m =
        parse(
            recording(
                "<stream stream_id=\"s\""
                    + " session_id=\"cs\"><label>1</label></stream><participantstreamassoc"
                    + " participant_id=\"ghost\"><send>s</send></participantstreamassoc>"));
    assertEquals(
        new StreamSender("1", "s", "ghost", Optional.empty(), Optional.empty()),
        m.senderOf("1").orElseThrow());
  }

  @Test
  void missingRequiredAttributesAreRefused() {
    assertEquals(
        "recording metadata: participant without participant_id attribute",
        refusal(recording("<participant/>")));
    assertEquals(
        "recording metadata: participant without participant_id attribute",
        refusal(recording("<participant participant_id='  '/>")));
    assertEquals(
        "recording metadata: stream without stream_id attribute",
        refusal(recording("<stream session_id='cs'/>")));
    assertEquals(
        "recording metadata: stream without session_id attribute",
        refusal(recording("<stream stream_id='s'/>")));
    assertEquals(
        "recording metadata: session without session_id attribute",
        refusal(recording("<session/>")));
    assertEquals(
        "recording metadata: group without group_id attribute", refusal(recording("<group/>")));
    assertEquals(
        "recording metadata: nameID without aor attribute",
        refusal(
            recording(
                "<participant participant_id='p'><nameID><name>x</name></nameID></participant>")));
    assertEquals(
        "recording metadata: participantstreamassoc without participant_id attribute",
        refusal(recording("<participantstreamassoc><send>s</send></participantstreamassoc>")));
    assertEquals(
        "recording metadata: participantsessionassoc without session_id attribute",
        refusal(recording("<participantsessionassoc participant_id='p'/>")));
    assertEquals(
        "recording metadata: sessionrecordingassoc without session_id attribute",
        refusal(recording("<sessionrecordingassoc/>")));
  }

  @Test
  void duplicateIdsAndUnknownDataModesAreRefused() {
    assertEquals(
        "recording metadata: duplicate participant_id \"p\"",
        refusal(recording("<participant participant_id='p'/><participant participant_id='p'/>")));
    assertEquals(
        "recording metadata: duplicate stream_id \"s\"",
        refusal(
            recording(
                "<stream stream_id='s' session_id='c'/><stream stream_id='s' session_id='c'/>")));
    assertEquals(
        "recording metadata: unknown dataMode \"full\"",
        refusal(recording("<dataMode>full</dataMode>")));
  }

  @Test
  void anotherRootOrNamespaceIsRefused() {
    assertEquals(
        "recording metadata: root element is {}recording, not"
            + " {urn:ietf:params:xml:ns:recording:1}recording",
        refusal("<recording/>"));
    assertEquals(
        "recording metadata: root element is {urn:ietf:params:xml:ns:recording:1}session, not"
            + " {urn:ietf:params:xml:ns:recording:1}recording",
        refusal("<session xmlns='urn:ietf:params:xml:ns:recording:1'/>"));
  }

  @Test
  void xmlThatIsNotWellFormedIsRefusedWithTheLine() {
    String reason = refusal(recording("<participant participant_id='p'>\n</stream>"));
    assertTrue(reason.startsWith("recording metadata: invalid XML at line 4: "), reason);
    assertTrue(refusal("").startsWith("recording metadata: invalid XML at line 1: "));
    assertTrue(refusal("not xml at all").startsWith("recording metadata: invalid XML"));
  }

  @Test
  void anExternalEntityIsNeverResolved(@TempDir Path dir) throws Exception {
    Path secret = dir.resolve("secret.txt");
    Files.writeString(secret, "TOP-SECRET");
    String xxe =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE recording [<!ENTITY x SYSTEM \""
            + secret.toUri()
            + "\">]>\n"
            + "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><participant"
            + " participant_id='p'><nameID"
            + " aor='sip:a@h'><name>&x;</name></nameID></participant></recording>";
    String reason = refusal(xxe);
    assertTrue(reason.contains("DOCTYPE is disallowed"), reason);
    assertFalse(reason.contains("TOP-SECRET"));
  }

  @Test
  void anEntityExpansionBombIsRefusedBeforeItExpands() {
    StringBuilder bomb =
        new StringBuilder("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for (int i = 1; i <= 9; i++) {
      bomb.append("<!ENTITY lol").append(i).append(" \"");
      String prev = i == 1 ? "&lol;" : "&lol" + (i - 1) + ";";
      bomb.append(prev.repeat(10)).append("\">");
    }
    bomb.append(
        "]>\n"
            + "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><group"
            + " group_id='&lol9;'/></recording>");
    assertTrue(refusal(bomb.toString()).contains("DOCTYPE is disallowed"));
    assertTrue(
        refusal(
                "<!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:1/evil.dtd\"> %p;]><recording"
                    + " xmlns='urn:ietf:params:xml:ns:recording:1'/>")
            .contains("DOCTYPE is disallowed"));
  }

  @Test
  void absurdlyDeepNestingIsRefused() {
    String deep = "<x>".repeat(40) + "</x>".repeat(40);
    String reason = refusal(recording(deep));
    assertTrue(reason.contains("maxElementDepth"), reason);
  }

  // --- partial updates ---

  @Test
  void aPartialUpdateAddsAParticipantAndAStreamAndRenamesAnother() throws Exception {
    RecordingMetadata complete = parse(METADATA_BODY);
    RecordingMetadata update =
        parse(
            recording(
                """
                <dataMode>partial</dataMode>
                <participant participant_id="zSfPoSvdSDCmU3A3TRDxAw==">
                  <nameID aor="sip:bob@example.com"><name>Bob (transferred)</name></nameID>
                </participant>
                <participant participant_id="carol">
                  <nameID aor="sip:carol@example.com"><name>Carol</name></nameID>
                </participant>
                <stream stream_id="s3" session_id="0PdEJ5xu2vo4cVq3ukmsQw=="><label>3</label></stream>
                <participantstreamassoc participant_id="carol"><send>s3</send></participantstreamassoc>
                """));

    RecordingMetadata merged = complete.merge(update);

    assertEquals(DataMode.COMPLETE, merged.dataMode());
    assertEquals(
        List.of("srfBElmCRp2QB23b7Mpk0w==", "zSfPoSvdSDCmU3A3TRDxAw==", "carol"),
        merged.participants().stream().map(RecordingMetadata.Participant::participantId).toList());
    assertEquals(List.of("1", "2", "3"), List.copyOf(merged.sendersByLabel().keySet()));
    assertEquals(Optional.of("Alice"), merged.senderOf("1").orElseThrow().name());
    assertEquals(Optional.of("Bob (transferred)"), merged.senderOf("2").orElseThrow().name());
    assertEquals(
        new StreamSender(
            "3", "s3", "carol", Optional.of("sip:carol@example.com"), Optional.of("Carol")),
        merged.senderOf("3").orElseThrow());
    assertEquals(complete.sessions(), merged.sessions());
  }

  @Test
  void aPartialStreamAssociationReplacesTheParticipantsPreviousOne() throws Exception {
    RecordingMetadata complete = parse(METADATA_BODY);
    // Bob goes on hold: the update says he only receives now.
    RecordingMetadata update =
        parse(
            recording(
                "<dataMode>partial</dataMode><participantstreamassoc"
                    + " participant_id=\"zSfPoSvdSDCmU3A3TRDxAw==\"><recv>UAAMm5GRQKSCMVvLyl4rFw==</recv></participantstreamassoc>"));
    RecordingMetadata merged = complete.merge(update);
    assertEquals(Optional.empty(), merged.senderOf("2"), "Bob no longer sends on label 2");
    assertEquals("Alice", merged.senderOf("1").orElseThrow().name().orElseThrow());
  }

  @Test
  void participantSessionAssociationsAreReplacedByParticipantAndSession() throws Exception {
    RecordingMetadata complete =
        parse(
            recording(
                "<participantsessionassoc participant_id='p'"
                    + " session_id='s'><associate-time>t1</associate-time></participantsessionassoc>"));
    RecordingMetadata update =
        parse(
            recording(
                "<dataMode>partial</dataMode><participantsessionassoc participant_id='p'"
                    + " session_id='s'><associate-time>t1</associate-time><disassociate-time>t2</disassociate-time></participantsessionassoc><participantsessionassoc"
                    + " participant_id='q'"
                    + " session_id='s'><associate-time>t3</associate-time></participantsessionassoc>"));
    RecordingMetadata merged = complete.merge(update);
    assertEquals(2, merged.participantSessionAssocs().size());
    assertEquals(Optional.of("t2"), merged.participantSessionAssocs().get(0).disassociateTime());
  }

  @Test
  void aCompleteUpdateReplacesEverythingAndAPartialBaseCannotBeMergedInto() throws Exception {
    RecordingMetadata complete = parse(METADATA_BODY);
    RecordingMetadata replacement = parse(recording("<participant participant_id='only'/>"));
    assertEquals(replacement, complete.merge(replacement));
    RecordingMetadata partial = parse(recording("<dataMode>partial</dataMode>"));
    assertThrows(IllegalStateException.class, () -> partial.merge(partial));
  }
}
