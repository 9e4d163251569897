package org.callvault.sip;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * Recording metadata as a SIPREC client sends it, <a
 * href="https://www.rfc-editor.org/rfc/rfc7865#section-6">RFC 7865 §6</a> (XML format of §9 and the
 * schema of §11), carried in the INVITE as described by <a
 * href="https://www.rfc-editor.org/rfc/rfc7866#section-6.3">RFC 7866 §6.3</a>.
 *
 * <pre>
 * &lt;recording xmlns='urn:ietf:params:xml:ns:recording:1'&gt;
 *   &lt;dataMode&gt;complete&lt;/dataMode&gt;                       complete | partial
 *   &lt;session session_id="0PdEJ5xu2vo4cVq3ukmsQw=="&gt;
 *     &lt;sipSessionID&gt;ab30317f1a784dc4...&lt;/sipSessionID&gt;
 *   &lt;/session&gt;
 *   &lt;participant participant_id="srfBElmCRp2QB23b7Mpk0w=="&gt;
 *     &lt;nameID aor="sip:alice@example.com"&gt;&lt;name&gt;Alice&lt;/name&gt;&lt;/nameID&gt;
 *   &lt;/participant&gt;
 *   &lt;stream stream_id="UAAMm5GRQKSCMVvLyl4rFw==" session_id="0PdEJ5xu2vo4cVq3ukmsQw=="&gt;
 *     &lt;label&gt;1&lt;/label&gt;                               = a=label:1 in the SDP
 *   &lt;/stream&gt;
 *   &lt;participantstreamassoc participant_id="srfBElmCRp2QB23b7Mpk0w=="&gt;
 *     &lt;send&gt;UAAMm5GRQKSCMVvLyl4rFw==&lt;/send&gt;           Alice speaks on label 1
 *   &lt;/participantstreamassoc&gt;
 * &lt;/recording&gt;
 * </pre>
 *
 * <p>What the recorder needs from it is {@link #sendersByLabel()}: whose voice each SDP stream
 * carries, which is what a compliance officer searches by and what consent rules apply to.
 *
 * <p>Parsing is defensive because this XML comes from the network: DOCTYPE declarations are refused
 * outright (so no external entity, no XXE, no entity expansion bomb can exist), external DTDs and
 * schemas are never loaded, XInclude is off, and the JDK's secure-processing limits plus an element
 * depth limit bound the work. The SIP message size limit bounds the input.
 *
 * <p>Leniency, where real clients differ from the schema: the element is matched as {@code
 * dataMode} or {@code datamode} (RFC 7866's examples use the latter); the pre-RFC namespace {@code
 * urn:ietf:params:xml:ns:recording} is accepted as well as {@code ...:recording:1}; {@code
 * send}/{@code recv} written directly inside {@code participant} (as drafts of RFC 7865 had it) are
 * read as a participant-stream association; elements in other namespaces (vendor extensions) and
 * unknown elements are ignored. Identifiers, AORs and times are kept as text, whitespace-trimmed.
 *
 * @param dataMode {@code complete} replaces what the recorder knew, {@code partial} adds to it
 */
public record RecordingMetadata(
    DataMode dataMode,
    List<Group> groups,
    List<Session> sessions,
    List<Participant> participants,
    List<Stream> streams,
    List<SessionRecordingAssoc> sessionRecordingAssocs,
    List<ParticipantSessionAssoc> participantSessionAssocs,
    List<ParticipantStreamAssoc> participantStreamAssocs) {

  /** RFC 7865 §10 (IANA registration of the namespace). */
  public static final String NAMESPACE = "urn:ietf:params:xml:ns:recording:1";

  /** Used by some deployed SBCs from the drafts of RFC 7865. */
  static final String DRAFT_NAMESPACE = "urn:ietf:params:xml:ns:recording";

  /** Far deeper than the schema's four levels; stops a stack-exhausting nesting attack early. */
  private static final int MAX_ELEMENT_DEPTH = 32;

  public RecordingMetadata {
    Objects.requireNonNull(dataMode);
    groups = List.copyOf(groups);
    sessions = List.copyOf(sessions);
    participants = List.copyOf(participants);
    streams = List.copyOf(streams);
    sessionRecordingAssocs = List.copyOf(sessionRecordingAssocs);
    participantSessionAssocs = List.copyOf(participantSessionAssocs);
    participantStreamAssocs = List.copyOf(participantStreamAssocs);
  }

  /** RFC 7865 §6.1: whether this document is the whole picture or a delta. */
  public enum DataMode {
    COMPLETE,
    PARTIAL
  }

  /** RFC 7865 §6.2: a group of communication sessions recorded together. */
  public record Group(String groupId, Optional<String> associateTime) {}

  /** RFC 7865 §6.3: a communication session (the call being recorded). */
  public record Session(
      String sessionId,
      List<String> groupRefs,
      List<String> sipSessionIds,
      Optional<String> startTime,
      Optional<String> stopTime) {
    public Session {
      groupRefs = List.copyOf(groupRefs);
      sipSessionIds = List.copyOf(sipSessionIds);
    }
  }

  /** One {@code nameID}: an address of record and, optionally, a display name. */
  public record NameId(String aor, Optional<String> name) {}

  /** RFC 7865 §6.5: a party whose media is recorded. */
  public record Participant(String participantId, List<NameId> nameIds) {
    public Participant {
      nameIds = List.copyOf(nameIds);
    }

    /** The first AOR, the participant's identity for search and consent. */
    public Optional<String> aor() {
      return nameIds.stream().map(NameId::aor).findFirst();
    }

    /** The first display name given. */
    public Optional<String> name() {
      return nameIds.stream().flatMap(n -> n.name().stream()).findFirst();
    }
  }

  /** RFC 7865 §6.6: a media stream; its label is the SDP {@code a=label} of RFC 4574. */
  public record Stream(String streamId, String sessionId, Optional<String> label) {}

  /** RFC 7865 §6.7 (sessionrecordingassoc): a session joining or leaving the recording. */
  public record SessionRecordingAssoc(
      String sessionId, Optional<String> associateTime, Optional<String> disassociateTime) {}

  /** RFC 7865 §6.7 (participantsessionassoc): a participant joining or leaving a session. */
  public record ParticipantSessionAssoc(
      String participantId,
      String sessionId,
      Optional<String> associateTime,
      Optional<String> disassociateTime) {}

  /** RFC 7865 §6.7 (participantstreamassoc): the streams a participant sends and receives. */
  public record ParticipantStreamAssoc(String participantId, List<String> send, List<String> recv) {
    public ParticipantStreamAssoc {
      send = List.copyOf(send);
      recv = List.copyOf(recv);
    }
  }

  /**
   * Who speaks on a labelled stream.
   *
   * @param label the SDP {@code a=label} value
   * @param streamId the metadata stream id
   * @param participantId the participant that sends on this stream
   * @param aor that participant's address of record, if given
   * @param name that participant's display name, if given
   */
  public record StreamSender(
      String label,
      String streamId,
      String participantId,
      Optional<String> aor,
      Optional<String> name) {}

  /**
   * Parses a metadata document.
   *
   * @throws SipParseException 400 when it is not well-formed XML, has a DOCTYPE, has another root
   *     element, an unknown dataMode, a missing required attribute or a duplicate id
   */
  public static RecordingMetadata parse(byte[] xml) throws SipParseException {
    Document doc;
    try {
      DocumentBuilder builder = factory().newDocumentBuilder();
      builder.setErrorHandler(THROWING);
      doc = builder.parse(new ByteArrayInputStream(xml));
    } catch (SAXParseException e) {
      throw invalid("invalid XML at line " + e.getLineNumber() + ": " + e.getMessage());
    } catch (SAXException e) {
      throw invalid("invalid XML: " + e.getMessage());
    } catch (IOException e) {
      // Reading from a byte array does no I/O; this is the parser's way of saying the bytes ended.
      throw invalid("unreadable XML: " + e.getMessage());
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("the JDK's XML parser lacks a required safety feature", e);
    }
    Element root = doc.getDocumentElement();
    String ns = root.getNamespaceURI();
    if (!"recording".equals(root.getLocalName())
        || !(NAMESPACE.equals(ns) || DRAFT_NAMESPACE.equals(ns))) {
      throw invalid(
          "root element is {"
              + (ns == null ? "" : ns)
              + "}"
              + root.getLocalName()
              + ", not {"
              + NAMESPACE
              + "}recording");
    }

    DataMode mode = DataMode.COMPLETE; // RFC 7865 §6.1: complete unless said otherwise
    List<Group> groups = new ArrayList<>();
    List<Session> sessions = new ArrayList<>();
    List<Participant> participants = new ArrayList<>();
    List<Stream> streams = new ArrayList<>();
    List<SessionRecordingAssoc> sras = new ArrayList<>();
    List<ParticipantSessionAssoc> psas = new ArrayList<>();
    List<ParticipantStreamAssoc> pstas = new ArrayList<>();
    for (Element e : children(root, ns)) {
      switch (e.getLocalName().toLowerCase(Locale.ROOT)) {
        case "datamode" -> {
          String value = text(e);
          if (value.equals("complete")) mode = DataMode.COMPLETE;
          else if (value.equals("partial")) mode = DataMode.PARTIAL;
          else throw invalid("unknown dataMode \"" + SipText.printable(value, 20) + "\"");
        }
        case "group" ->
            groups.add(new Group(required(e, "group_id"), childText(e, ns, "associate-time")));
        case "session" ->
            sessions.add(
                new Session(
                    required(e, "session_id"),
                    childTexts(e, ns, "group-ref"),
                    childTexts(e, ns, "sipSessionID"),
                    childText(e, ns, "start-time"),
                    childText(e, ns, "stop-time")));
        case "participant" -> {
          String id = required(e, "participant_id");
          List<NameId> names = new ArrayList<>();
          for (Element n : children(e, ns)) {
            if (!n.getLocalName().equals("nameID")) continue;
            names.add(new NameId(required(n, "aor"), childText(n, ns, "name")));
          }
          participants.add(new Participant(id, names));
          List<String> send = childTexts(e, ns, "send");
          List<String> recv = childTexts(e, ns, "recv");
          if (!send.isEmpty() || !recv.isEmpty())
            pstas.add(new ParticipantStreamAssoc(id, send, recv));
        }
        case "stream" ->
            streams.add(
                new Stream(
                    required(e, "stream_id"),
                    required(e, "session_id"),
                    childText(e, ns, "label")));
        case "sessionrecordingassoc" ->
            sras.add(
                new SessionRecordingAssoc(
                    required(e, "session_id"),
                    childText(e, ns, "associate-time"),
                    childText(e, ns, "disassociate-time")));
        case "participantsessionassoc" ->
            psas.add(
                new ParticipantSessionAssoc(
                    required(e, "participant_id"),
                    required(e, "session_id"),
                    childText(e, ns, "associate-time"),
                    childText(e, ns, "disassociate-time")));
        case "participantstreamassoc" ->
            pstas.add(
                new ParticipantStreamAssoc(
                    required(e, "participant_id"),
                    childTexts(e, ns, "send"),
                    childTexts(e, ns, "recv")));
        default -> {
          // Elements this version does not know, e.g. future RFC 7865 extensions (§11 allows any).
        }
      }
    }
    unique(groups, Group::groupId, "group_id");
    unique(sessions, Session::sessionId, "session_id");
    unique(participants, Participant::participantId, "participant_id");
    unique(streams, Stream::streamId, "stream_id");
    return new RecordingMetadata(mode, groups, sessions, participants, streams, sras, psas, pstas);
  }

  private static DocumentBuilderFactory factory() throws ParserConfigurationException {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    // No DOCTYPE at all: closes XXE, parameter entities and the billion-laughs expansion at once.
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    f.setFeature("http://xml.org/sax/features/external-general-entities", false);
    f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
    f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
    f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
    f.setAttribute("jdk.xml.entityExpansionLimit", "64");
    f.setAttribute("jdk.xml.maxElementDepth", Integer.toString(MAX_ELEMENT_DEPTH));
    f.setXIncludeAware(false);
    f.setExpandEntityReferences(false);
    return f;
  }

  /** Turns every error into an exception, and keeps the parser from printing to stderr. */
  private static final ErrorHandler THROWING =
      new ErrorHandler() {
        @Override
        public void warning(SAXParseException e) {
          // Warnings (e.g. about an unused namespace) do not make the document unusable.
        }

        @Override
        public void error(SAXParseException e) throws SAXParseException {
          throw e;
        }

        @Override
        public void fatalError(SAXParseException e) throws SAXParseException {
          throw e;
        }
      };

  private static SipParseException invalid(String why) {
    return SipParseException.badRequest("recording metadata: " + SipText.printable(why, 200));
  }

  /** Child elements in the document's namespace, in order. */
  private static List<Element> children(Element parent, String ns) {
    List<Element> out = new ArrayList<>();
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && Objects.equals(ns, e.getNamespaceURI())) out.add(e);
    }
    return out;
  }

  private static List<String> childTexts(Element parent, String ns, String name) {
    List<String> out = new ArrayList<>();
    for (Element e : children(parent, ns)) {
      if (e.getLocalName().equals(name)) {
        String t = text(e);
        if (!t.isEmpty()) out.add(t);
      }
    }
    return out;
  }

  private static Optional<String> childText(Element parent, String ns, String name) {
    return childTexts(parent, ns, name).stream().findFirst();
  }

  /**
   * Text content with runs of whitespace (line breaks in long ids, RFC 7866 §12) removed at the
   * ends and collapsed inside.
   */
  private static String text(Element e) {
    return e.getTextContent().trim().replaceAll("\\s+", " ");
  }

  private static String required(Element e, String attribute) throws SipParseException {
    String v = e.getAttribute(attribute).trim();
    if (v.isEmpty()) throw invalid(e.getLocalName() + " without " + attribute + " attribute");
    return v;
  }

  private static <T> void unique(List<T> items, Function<T, String> id, String what)
      throws SipParseException {
    Set<String> seen = new java.util.HashSet<>();
    for (T item : items) {
      if (!seen.add(id.apply(item)))
        throw invalid("duplicate " + what + " \"" + id.apply(item) + "\"");
    }
  }

  /**
   * For each stream label, the participant that sends on that stream, with its AOR and name. A
   * stream without label, or that no participant sends (e.g. a mixed stream), is absent.
   */
  public Map<String, StreamSender> sendersByLabel() {
    Map<String, StreamSender> out = new LinkedHashMap<>();
    for (Stream s : streams) {
      if (s.label().isEmpty()) continue;
      for (ParticipantStreamAssoc a : participantStreamAssocs) {
        if (!a.send().contains(s.streamId())) continue;
        Optional<Participant> p = participant(a.participantId());
        out.putIfAbsent(
            s.label().get(),
            new StreamSender(
                s.label().get(),
                s.streamId(),
                a.participantId(),
                p.flatMap(Participant::aor),
                p.flatMap(Participant::name)));
      }
    }
    return out;
  }

  /** Who sends on the stream with this SDP label; see {@link #sendersByLabel()}. */
  public Optional<StreamSender> senderOf(String label) {
    return Optional.ofNullable(sendersByLabel().get(label));
  }

  public Optional<Participant> participant(String participantId) {
    return participants.stream().filter(p -> p.participantId().equals(participantId)).findFirst();
  }

  /**
   * What the recorder knows after {@code update} arrives on top of this (RFC 7865 §6.1). A complete
   * update replaces everything. A partial one is applied element by element: a group, session,
   * participant or stream with a known id replaces the old one in place and a new id is added; a
   * participant-stream association replaces that participant's previous one (its send and recv
   * lists describe the participant's streams now); a participant-session association replaces the
   * one for the same participant and session, a session-recording association the one for the same
   * session. The result is complete.
   *
   * @throws IllegalStateException if this is itself partial: a delta needs a whole to apply to
   */
  public RecordingMetadata merge(RecordingMetadata update) {
    if (update.dataMode == DataMode.COMPLETE) return update;
    if (dataMode != DataMode.COMPLETE)
      throw new IllegalStateException("cannot apply a partial update to partial metadata");
    return new RecordingMetadata(
        DataMode.COMPLETE,
        replaceById(groups, update.groups, Group::groupId),
        replaceById(sessions, update.sessions, Session::sessionId),
        replaceById(participants, update.participants, Participant::participantId),
        replaceById(streams, update.streams, Stream::streamId),
        replaceById(
            sessionRecordingAssocs,
            update.sessionRecordingAssocs,
            SessionRecordingAssoc::sessionId),
        replaceById(
            participantSessionAssocs,
            update.participantSessionAssocs,
            a -> a.participantId() + "\u0000" + a.sessionId()),
        replaceById(
            participantStreamAssocs,
            update.participantStreamAssocs,
            ParticipantStreamAssoc::participantId));
  }

  private static <T> List<T> replaceById(List<T> old, List<T> updates, Function<T, String> id) {
    Map<String, T> merged = new LinkedHashMap<>();
    for (T t : old) merged.put(id.apply(t), t);
    for (T t : updates) merged.put(id.apply(t), t);
    return new ArrayList<>(merged.values());
  }
}
