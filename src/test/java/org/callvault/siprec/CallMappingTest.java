package org.callvault.siprec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.callvault.call.CallSpec;
import org.callvault.call.Party;
import org.callvault.call.SipSession;
import org.callvault.core.Codec;
import org.callvault.core.Endpoint;
import org.callvault.core.StreamSpec;
import org.callvault.sip.DialogState;
import org.callvault.sip.RecordingMetadata;
import org.callvault.sip.Sdp;
import org.callvault.sip.SdpOffer;
import org.callvault.sip.SipParser;
import org.callvault.sip.SipRequest;
import org.callvault.sip.SipTestMessages;
import org.junit.jupiter.api.Test;

/** What a SIPREC offer and its metadata make of a call, without a server or an entity. */
class CallMappingTest {

  private static Sdp sdp(String text) throws Exception {
    return Sdp.parse(SipTestMessages.crlf(text));
  }

  private static RecordingMetadata metadata(String xml) throws Exception {
    return RecordingMetadata.parse(xml.getBytes(StandardCharsets.UTF_8));
  }

  private static final String SESSION =
      "v=0\no=SRC 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n";

  @Test
  void labelledMlinesBecomeStreamsOfTheParticipantsTheMetadataTiesThemTo() throws Exception {
    CallMapping.Recorded r =
        CallMapping.recorded(
            sdp(SipTestMessages.SDP_BODY), metadata(SipTestMessages.METADATA_BODY));
    assertEquals(
        List.of(
            new StreamSpec("1", "alice", Codec.PCMU, "198.51.100.1", 101),
            new StreamSpec("2", "bob", Codec.PCMU, "198.51.100.1", 101)),
        r.streams(),
        "PCMU, the first G.711 type offered; RTP only from the connection address; telephone-event"
            + " 101");
    assertEquals(
        List.of(
            new CallSpec.PartySpec(
                "alice", Party.Role.OTHER, Party.Consent.UNKNOWN, "Alice", "sip:alice@example.com"),
            new CallSpec.PartySpec(
                "bob", Party.Role.OTHER, Party.Consent.UNKNOWN, "Bob", "sip:bob@example.com")),
        r.parties());
    assertEquals(List.of("1", "2"), r.labels());
    assertEquals(List.of(), r.refusals());
  }

  @Test
  void theCodecIsTheOneOfThePayloadTypeChosen() throws Exception {
    CallMapping.Recorded r =
        CallMapping.recorded(
            sdp(
                SESSION
                    + "m=audio 12240 RTP/AVP 8 0\n"
                    + "a=label:a\n"
                    + "m=audio 12242 RTP/AVP 18 0\n"
                    + "a=label:b\n"),
            null);
    assertEquals(
        List.of(Codec.PCMA, Codec.PCMU),
        r.streams().stream().map(StreamSpec::codec).toList(),
        "the offerer's first G.711 type, past G.729");
  }

  @Test
  void mlinesThatCannotBeRecordedAreRefusedEachWithItsReason() throws Exception {
    CallMapping.Recorded r =
        CallMapping.recorded(
            sdp(
                SESSION
                    + "m=video 12250 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
                    + "m=audio 12252 udptl t38\n"
                    + "m=audio 0 RTP/AVP 0\n"
                    + "m=audio 12256 RTP/AVP 18\n"
                    + "m=audio 12258 RTP/AVP 0\na=label:kept\n"),
            null);
    assertEquals(
        Arrays.asList(null, null, null, null, "kept"),
        r.labels(),
        "one per m-line, null where refused (port 0 in the answer)");
    assertEquals(
        List.of(
            "m-line 0 is video, not audio",
            "m-line 1 is udptl, not RTP",
            "m-line 2 is disabled (port 0)",
            "m-line 3 offers no PCMU or PCMA (18)"),
        r.refusals());
    assertEquals(List.of("kept"), r.streams().stream().map(StreamSpec::label).toList());
  }

  @Test
  void aLabelThatIsNoValidStreamLabelIsReplacedByTheMlinesIndexButStillFindsItsSender()
      throws Exception {
    String long65 = "x".repeat(65);
    String xml =
        SipTestMessages.METADATA_BODY
            .replace("<label>1</label>", "<label>" + long65 + "</label>")
            .replace("<label>2</label>", "<label>a/b</label>");
    CallMapping.Recorded r =
        CallMapping.recorded(
            sdp(
                SipTestMessages.SDP_BODY
                    .replace("a=label:1", "a=label:" + long65)
                    .replace("a=label:2", "a=label:a/b")),
            metadata(xml));
    assertEquals(
        List.of("stream-0", "stream-1"), r.labels(), "StreamSpec.LABEL: " + StreamSpec.LABEL_RULE);
    assertEquals(
        List.of("alice", "bob"),
        r.streams().stream().map(StreamSpec::party).toList(),
        "the metadata still ties the SDP label to its sender");
    assertTrue(StreamSpec.LABEL.matcher("x".repeat(64)).matches());
    assertEquals(
        List.of("x".repeat(64)),
        CallMapping.recorded(
                sdp(SESSION + "m=audio 1 RTP/AVP 0\na=label:" + "x".repeat(64) + "\n"), null)
            .labels());
  }

  @Test
  void withoutMetadataEachStreamIsAPartyOfItsOwn() throws Exception {
    CallMapping.Recorded r =
        CallMapping.recorded(
            sdp(SESSION + "m=audio 12240 RTP/AVP 0\nm=audio 12242 RTP/AVP 0\na=label:mix\n"), null);
    assertEquals(
        List.of("participant-stream-0", "participant-mix"),
        r.streams().stream().map(StreamSpec::party).toList());
    assertEquals(
        List.of(
            new CallSpec.PartySpec("participant-stream-0", Party.Role.OTHER, Party.Consent.UNKNOWN),
            new CallSpec.PartySpec("participant-mix", Party.Role.OTHER, Party.Consent.UNKNOWN)),
        r.parties());
  }

  @Test
  void rtpIsExpectedFromAnIpv4ConnectionAddressOnlyAndTelephoneEventsOnADynamicType()
      throws Exception {
    String sdp =
        "v=0\n"
            + "o=SRC 1 1 IN IP4 198.51.100.1\n"
            + "s=-\n"
            + "c=IN IP4 0.0.0.0\n"
            + "t=0 0\n"
            + "m=audio 12240 RTP/AVP 0 101\n"
            + "a=rtpmap:101 telephone-event/8000\n"
            + "a=label:held\n"
            + "m=audio 12242 RTP/AVP 0\n"
            + "c=IN IP4 203.0.113.7\n"
            + "a=label:own\n"
            + "m=audio 12244 RTP/AVP 0 95\n"
            + "c=IN IP6 2001:db8::7\n"
            + "a=rtpmap:95 telephone-event/8000\n"
            + "a=label:v6\n";
    List<StreamSpec> streams = CallMapping.recorded(sdp(sdp), null).streams();
    assertNull(streams.get(0).source(), "0.0.0.0: no address yet");
    assertEquals(101, streams.get(0).dtmfPayloadType());
    assertEquals(
        "203.0.113.7", streams.get(1).source(), "the m-line's own c= before the session's");
    assertNull(streams.get(1).dtmfPayloadType());
    assertNull(
        streams.get(2).source(), "an IPv6 source cannot be declared (StreamSpec takes IPv4)");
    assertNull(streams.get(2).dtmfPayloadType(), "95 is not a dynamic payload type");
  }

  @Test
  void aPartyIdIsTheUserPartOfTheAddressOfRecordElseTheParticipantIdMadeSafe() {
    assertEquals(
        "alice", CallMapping.partyIdOf("srfBElmCRp2QB23b7Mpk0w==", "sip:alice@example.com"));
    assertEquals(
        "bob.smith", CallMapping.partyIdOf("x", "sips:bob.smith@example.com;transport=tls"));
    assertEquals("_15551234", CallMapping.partyIdOf("x", "tel:+15551234"));
    assertEquals("example.com", CallMapping.partyIdOf("x", "sip:example.com"));
    assertEquals(
        "srfBElmCRp2QB23b7Mpk0w__", CallMapping.partyIdOf("srfBElmCRp2QB23b7Mpk0w==", null));
    assertEquals("participant", CallMapping.partyIdOf("", null));
    assertEquals(
        "p".repeat(64),
        CallMapping.partyIdOf("p".repeat(80), null),
        "at most 64 characters, a label's length");
  }

  @Test
  void aReInviteAmendsTheCallWithTheStreamsItLacksAndTheirParties() throws Exception {
    List<StreamSpec> call =
        CallMapping.recorded(sdp(SipTestMessages.SDP_BODY), metadata(SipTestMessages.METADATA_BODY))
            .streams();
    CallMapping.Recorded same =
        CallMapping.recorded(
            sdp(SipTestMessages.SDP_BODY), metadata(SipTestMessages.METADATA_BODY));
    assertNull(CallMapping.amendment(call, same, false), "nothing new");
    CallMapping.Recorded more =
        CallMapping.recorded(
            sdp(SipTestMessages.SDP_BODY + "m=audio 12244 RTP/AVP 8\na=label:3\na=sendonly\n"),
            metadata(SipTestMessages.METADATA_BODY));
    CallMapping.Amendment added = CallMapping.amendment(call, more, false);
    assertEquals(
        List.of(new StreamSpec("3", "participant-3", Codec.PCMA, "198.51.100.1", null)),
        added.streams());
    assertEquals(
        List.of(new CallSpec.PartySpec("participant-3", Party.Role.OTHER, Party.Consent.UNKNOWN)),
        added.parties());
    CallMapping.Amendment renamed = CallMapping.amendment(call, same, true);
    assertEquals(List.of(), renamed.streams());
    assertEquals(
        List.of("alice", "bob"),
        renamed.parties().stream().map(CallSpec.PartySpec::id).toList(),
        "a metadata update names its parties again");
  }

  @Test
  void completeMetadataReplacesWhatWasKnownAndPartialMetadataIsMergedIn() throws Exception {
    RecordingMetadata known = metadata(SipTestMessages.METADATA_BODY);
    assertSame(known, CallMapping.merged(known, null));
    RecordingMetadata complete = metadata(SipTestMessages.METADATA_BODY.replace("Alice", "Alicia"));
    assertSame(complete, CallMapping.merged(known, complete));
    RecordingMetadata partial =
        metadata(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <recording xmlns='urn:ietf:params:xml:ns:recording:1'>
              <datamode>partial</datamode>
              <participant participant_id="carol-id"><nameID aor="sip:carol@example.com"><name>Carol</name></nameID></participant>
              <stream stream_id="carol-stream" session_id="0PdEJ5xu2vo4cVq3ukmsQw=="><label>3</label></stream>
              <participantstreamassoc participant_id="carol-id"><send>carol-stream</send></participantstreamassoc>
            </recording>
            """);
    RecordingMetadata merged = CallMapping.merged(known, partial);
    assertEquals("sip:alice@example.com", merged.senderOf("1").orElseThrow().aor().orElseThrow());
    assertEquals("sip:carol@example.com", merged.senderOf("3").orElseThrow().aor().orElseThrow());
    assertSame(partial, CallMapping.merged(null, partial));
  }

  @Test
  void theOfferAfterAMoveHasEveryStreamWithAnEndpointAtItsPortWithItsCodecsPayloadType() {
    List<StreamSpec> streams =
        List.of(
            new StreamSpec("1", "alice", Codec.PCMU, null, 101),
            new StreamSpec("2", "bob", Codec.PCMA, null, null),
            new StreamSpec("3", "carol", Codec.PCMU));
    Map<String, Endpoint> endpoints =
        Map.of("1", new Endpoint("10.0.0.5", 41000), "2", new Endpoint("10.0.0.5", 41002));
    assertEquals(
        List.of(new SdpOffer.Stream("1", 41000, 0, 101), new SdpOffer.Stream("2", 41002, 8, null)),
        CallMapping.offered(streams, endpoints),
        "stream 3 has no endpoint on this node");
  }

  @Test
  void theDialogGoesIntoTheLedgerAndComesBackAsTheSameDialog() throws Exception {
    byte[] bytes = SipTestMessages.siprecInvite();
    SipRequest invite =
        ((SipRequest) new SipParser().parseDatagram(bytes, 0, bytes.length))
            .withSource("192.0.2.44", 5099);
    DialogState dialog = DialogState.fromInvite(invite, "srs-tag");
    SipSession sip =
        CallMapping.sessionOf(
            invite,
            dialog,
            metadata(SipTestMessages.METADATA_BODY),
            "UDP",
            "pekko://callvault@10.0.0.5:2552");
    assertEquals(
        new SipSession(
            "d253c800-b0d1ea39-4a7dd-3f0e20a",
            "0PdEJ5xu2vo4cVq3ukmsQw==",
            "192.0.2.44:5099",
            "UDP",
            "srs-tag",
            "35e195d2-947d-4585-946f-09839247",
            "sip:recorder@srs.example.com",
            "sip:2000@src.example.com",
            "sip:2000@src.example.com:5060",
            List.of(),
            "pekko://callvault@10.0.0.5:2552"),
        sip,
        "the source as received (received, rport), the metadata's session");
    assertEquals(
        new DialogState(
            dialog.callId(),
            dialog.localTag(),
            dialog.remoteTag(),
            dialog.localUri(),
            dialog.remoteUri(),
            dialog.remoteTarget(),
            dialog.routeSet(),
            0,
            0),
        CallMapping.dialogOf(sip),
        "what any node rebuilds from the ledger: the dialog, without sequence numbers");
    assertNull(CallMapping.sessionOf(invite, dialog, null, "UDP", null).metadataSessionId());
  }
}
