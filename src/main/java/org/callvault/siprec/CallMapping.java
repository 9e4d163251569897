package org.callvault.siprec;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.callvault.call.CallSpec;
import org.callvault.call.Party;
import org.callvault.call.SipSession;
import org.callvault.core.Codec;
import org.callvault.core.Endpoint;
import org.callvault.core.StreamSpec;
import org.callvault.sip.DialogState;
import org.callvault.sip.RecordingMetadata;
import org.callvault.sip.Sdp;
import org.callvault.sip.SdpAnswer;
import org.callvault.sip.SdpOffer;
import org.callvault.sip.SipRequest;

/**
 * What a recording client's SDP offer, RFC 7865 metadata and dialog make of a call, and what a call
 * makes of the server's own offer and dialog: plain data in, plain data out, nothing sent.
 *
 * <p>An m-line is recorded when it is audio over RTP, not disabled (port 0), and offers PCMU or
 * PCMA; it becomes a stream labelled by its {@code a=label} when that is a valid {@link
 * StreamSpec#LABEL label}, else {@code stream-N} (its index). The metadata ties the label to the
 * participant who sends it, who becomes a party named after the user part of their address of
 * record; a stream the metadata does not tie to anyone (a mixed stream) gets a party of its own.
 * RTP is taken only from the m-line's IPv4 connection address when it has one.
 *
 * <p>The dialog goes into the call's ledger as a {@link SipSession}, strings only, so that any node
 * can rebuild the {@link DialogState} and send in the dialog.
 */
final class CallMapping {

  private CallMapping() {}

  /**
   * The streams and parties of an offer.
   *
   * @param streams one per recorded m-line, in m-line order
   * @param parties the senders of those streams, each once, in the order first met
   * @param labels one entry per m-line: its stream's label, null where refused (port 0 in the
   *     answer)
   * @param refusals why each refused m-line was refused, in words for a reason phrase
   */
  record Recorded(
      List<StreamSpec> streams,
      List<CallSpec.PartySpec> parties,
      List<String> labels,
      List<String> refusals) {}

  /**
   * What a re-INVITE adds to its call: streams of new m-lines and the parties they or the metadata
   * name.
   */
  record Amendment(List<CallSpec.PartySpec> parties, List<StreamSpec> streams) {}

  /**
   * The streams, parties and labels of {@code offer}, whose senders {@code metadata} names (null
   * when none came).
   */
  static Recorded recorded(Sdp offer, RecordingMetadata metadata) {
    List<StreamSpec> streams = new ArrayList<>();
    Map<String, CallSpec.PartySpec> parties = new LinkedHashMap<>();
    List<String> labels = new ArrayList<>();
    List<String> refusals = new ArrayList<>();
    for (Sdp.Media m : offer.media()) {
      String why = null;
      OptionalInt format = OptionalInt.empty();
      if (!m.type().equals("audio"))
        why = "m-line " + m.index() + " is " + m.type() + ", not audio";
      else if (!m.isRtp()) why = "m-line " + m.index() + " is " + m.proto() + ", not RTP";
      else if (m.port() == 0) why = "m-line " + m.index() + " is disabled (port 0)";
      else if ((format = SdpAnswer.chooseAudioFormat(m, SdpAnswer.G711)).isEmpty())
        why =
            "m-line "
                + m.index()
                + " offers no PCMU or PCMA ("
                + String.join(" ", m.formats())
                + ")";
      if (why != null) {
        refusals.add(why);
        labels.add(null);
        continue;
      }
      String sdpLabel = m.label().orElse(null);
      String label = labelOf(m);
      Optional<RecordingMetadata.StreamSender> sender =
          metadata == null || sdpLabel == null ? Optional.empty() : metadata.senderOf(sdpLabel);
      String partyId;
      if (sender.isPresent()) {
        RecordingMetadata.StreamSender s = sender.get();
        partyId = partyIdOf(s.participantId(), s.aor().orElse(null));
        parties.putIfAbsent(
            partyId,
            new CallSpec.PartySpec(
                partyId,
                Party.Role.OTHER,
                Party.Consent.UNKNOWN,
                s.name().orElse(null),
                s.aor().orElse(null)));
      } else {
        partyId = "participant-" + label; // no metadata names who speaks here (a mixed stream)
        parties.putIfAbsent(
            partyId, new CallSpec.PartySpec(partyId, Party.Role.OTHER, Party.Consent.UNKNOWN));
      }
      String address =
          m.connection().or(offer::connection).map(Sdp.Connection::address).orElse(null);
      String expectedSource =
          address != null
                  && address.matches("\\d{1,3}(\\.\\d{1,3}){3}")
                  && !address.equals("0.0.0.0")
              ? address
              : null;
      OptionalInt dtmf = m.telephoneEventPayloadType(8000);
      Integer dtmfType =
          dtmf.isPresent() && dtmf.getAsInt() >= 96 && dtmf.getAsInt() <= 127
              ? dtmf.getAsInt()
              : null;
      streams.add(
          new StreamSpec(
              label, partyId, Codec.ofPayloadType(format.getAsInt()), expectedSource, dtmfType));
      labels.add(label);
    }
    return new Recorded(streams, new ArrayList<>(parties.values()), labels, refusals);
  }

  /**
   * The label of a recorded m-line's stream: its {@code a=label} if that is a valid label, else
   * {@code stream-N}.
   */
  static String labelOf(Sdp.Media m) {
    String sdpLabel = m.label().orElse(null);
    return sdpLabel != null && StreamSpec.LABEL.matcher(sdpLabel).matches()
        ? sdpLabel
        : "stream-" + m.index();
  }

  /** A party id from the participant's address of record (its user part), else its metadata id. */
  static String partyIdOf(String participantId, String aor) {
    String candidate = participantId;
    if (aor != null) {
      String user = aor.replaceFirst("^(sips?|tel):", "");
      int at = user.indexOf('@');
      candidate = at > 0 ? user.substring(0, at) : user;
    }
    return StreamSpec.labelFrom(candidate, "participant");
  }

  /**
   * What a re-INVITE's offer adds to a call that has {@code callStreams}: the streams of m-lines it
   * does not have, their parties, and (with a metadata update) every party the metadata names by
   * address of record. Null when it adds nothing.
   */
  static Amendment amendment(
      List<StreamSpec> callStreams, Recorded recorded, boolean metadataUpdated) {
    List<StreamSpec> added =
        recorded.streams().stream()
            .filter(s -> callStreams.stream().noneMatch(k -> k.label().equals(s.label())))
            .toList();
    Set<String> partiesOfAdded = new HashSet<>();
    added.forEach(s -> partiesOfAdded.add(s.party()));
    List<CallSpec.PartySpec> parties =
        recorded.parties().stream()
            .filter(p -> partiesOfAdded.contains(p.id()) || (metadataUpdated && p.aor() != null))
            .toList();
    return added.isEmpty() && parties.isEmpty() ? null : new Amendment(parties, added);
  }

  /**
   * The metadata after an update: a complete document replaces, a partial one is merged (RFC 7865
   * dataMode).
   */
  static RecordingMetadata merged(RecordingMetadata known, RecordingMetadata update) {
    if (update == null) return known;
    if (known == null || update.dataMode() == RecordingMetadata.DataMode.COMPLETE) return update;
    return known.merge(update);
  }

  /**
   * The dialog a new INVITE opened, as the call's ledger keeps it.
   *
   * @param metadata the INVITE's, whose first session id is kept; null when it had none
   * @param transport {@code UDP} or {@code TCP}, as the INVITE came
   * @param node this node's cluster address: the one the SRC knows, whose Contact it got
   */
  static SipSession sessionOf(
      SipRequest invite,
      DialogState dialog,
      RecordingMetadata metadata,
      String transport,
      String node) {
    String sessionId =
        metadata == null
            ? null
            : metadata.sessions().stream()
                .findFirst()
                .map(RecordingMetadata.Session::sessionId)
                .orElse(null);
    String src = Admission.sourceOf(invite) + ":" + Admission.sourcePortOf(invite);
    return new SipSession(
        invite.callId(),
        sessionId,
        src,
        transport,
        dialog.localTag(),
        dialog.remoteTag(),
        dialog.localUri(),
        dialog.remoteUri(),
        dialog.remoteTarget(),
        dialog.routeSet(),
        node);
  }

  /**
   * The dialog of a call from its ledger, to send in. The local CSeq is 0 (none is kept: the
   * recorder's requests take their number from the call, see {@link RecordingServer#mediaMoved}),
   * as is the remote one (the transactions of the node that answered checked those).
   */
  static DialogState dialogOf(SipSession sip) {
    return new DialogState(
        sip.sipCallId(),
        sip.localTag(),
        sip.remoteTag(),
        sip.localUri(),
        sip.remoteUri(),
        sip.remoteTarget(),
        sip.routeSet(),
        0,
        0);
  }

  /**
   * The streams of the server's offer after a move: each stream of the call that has an endpoint,
   * with its codec's payload type.
   */
  static List<SdpOffer.Stream> offered(List<StreamSpec> streams, Map<String, Endpoint> endpoints) {
    List<SdpOffer.Stream> offered = new ArrayList<>();
    for (StreamSpec s : streams) {
      Endpoint e = endpoints.get(s.label());
      if (e != null)
        offered.add(
            new SdpOffer.Stream(s.label(), e.port(), s.codec().payloadType, s.dtmfPayloadType()));
    }
    return offered;
  }
}
