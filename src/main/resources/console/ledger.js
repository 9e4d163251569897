// A call's ledger in words: each event as "who did what", runs of stored chunks as one line.
import { formatMicros } from "./console.js";
import { causeInWords } from "./timeline.js";

const CONSENT = { GRANTED: "granted", DECLINED: "declined", WITHDRAWN: "withdrew", UNKNOWN: "unknown" };

/** What an event did, in words, without who did it (the ledger's "who" column says that). */
export function whatHappened(e) {
  const d = e.details || {};
  switch (e.type) {
    case "CallCreated": {
      const spec = d.spec || {};
      return (
        "created the call: " +
        (spec.parties || []).map((p) => p.id + " (" + p.role.toLowerCase() + ")").join(", ") +
        "; streams " +
        (spec.streams || []).map((s) => s.label + " " + s.codec).join(", ") +
        (spec.policy ? "; consent " + spec.policy.consentMode.replace("_", "-").toLowerCase() : "")
      );
    }
    case "ConsentChanged":
      return (
        "recorded " + d.party + "'s consent: " + (CONSENT[d.decision] || d.decision) +
        (d.previous && d.previous !== "UNKNOWN" ? " (was " + CONSENT[d.previous] + ")" : "")
      );
    case "Paused":
      return "paused recording" + (d.reason ? ": " + d.reason : "");
    case "Resumed":
      return "resumed recording" + (d.reason ? " (" + d.reason + ")" : "");
    case "Stopped":
      return "stopped the recording" + (d.reason ? ": " + d.reason : "");
    case "MediaBound":
      return (
        "received the media on " + d.node + ": " +
        Object.entries(d.endpoints || {})
          .map(([label, at]) => label + " at " + at.host + ":" + at.port)
          .join(", ")
      );
    case "MediaUnavailable":
      return "could not receive media on " + d.node + ": " + d.reason;
    case "MediaReleased":
      return "closed the media sockets on " + d.node + (d.reason ? " (" + d.reason.toLowerCase() + ")" : "");
    case "MediaGap":
      return (
        d.label + ": " + d.packets + " packets missing from " + formatMicros(d.startWallMicros) +
        " to " + formatMicros(d.endWallMicros) + ", " + causeInWords(d.cause) +
        (d.detail ? " (" + d.detail + ")" : "")
      );
    case "MediaTimeout":
      return "no audio on " + d.label + " for " + Math.round(d.silentMillis / 1000) + " s";
    case "DtmfDetected":
      return d.digit
        ? "digit " + d.digit + " pressed on " + d.label
        : "a digit was pressed on " + d.label + " while it was not recorded (the digit is not kept)";
    case "PartyJoined":
      return d.party.id + " (" + d.party.role.toLowerCase() + ") joined";
    case "PartyRenamed":
      return d.party + " is now " + [d.name, d.aor].filter(Boolean).join(", ");
    case "StreamsAdded":
      return "added streams " + d.streams.map((s) => s.label + " " + s.codec).join(", ");
    case "LegalHoldChanged":
      return d.on ? "placed a legal hold: " + d.reason : "lifted the legal hold" + (d.reason ? ": " + d.reason : "");
    case "RecordingErased":
      return "erased the recording: " + d.reason;
    case "Accessed":
      return "read the " + d.what + " (as " + d.roles + ")";
    case "ExportMade":
      return (
        "downloaded the audio (" + d.layout + (d.label ? " " + d.label : "") + ", " +
        d.bytes + " bytes, SHA-256 " + d.sha256.substring(0, 12) + "…)"
      );
    default:
      return e.type;
  }
}

/** Whether an event only records that someone read the recording. */
export function isRead(e) {
  return e.type === "Accessed" || e.type === "ExportMade";
}

/**
 * The ledger's lines: {seq, time, by, what, type, read}. Consecutive ChunkStored events make one
 * line that counts them per stream.
 */
export function ledgerLines(events) {
  const lines = [];
  let run = null;
  for (const e of events) {
    if (e.type === "ChunkStored") {
      const label = e.details.chunk.label;
      if (!run) {
        run = { seq: e.seq, time: e.time, by: e.by, type: "ChunkStored", read: false, counts: new Map(), adopted: 0 };
        lines.push(run);
      }
      run.counts.set(label, (run.counts.get(label) || 0) + 1);
      if (e.details.adopted) run.adopted++;
      run.last = e.seq;
      continue;
    }
    run = null;
    lines.push({ seq: e.seq, time: e.time, by: e.by, type: e.type, read: isRead(e), what: whatHappened(e) });
  }
  for (const line of lines) {
    if (line.type !== "ChunkStored") continue;
    const total = [...line.counts.values()].reduce((a, b) => a + b, 0);
    line.what =
      "stored " + total + (total === 1 ? " chunk" : " chunks") + " of audio (" +
      [...line.counts].map(([label, n]) => label + " " + n).join(", ") + ")" +
      (line.adopted ? ", " + line.adopted + " adopted after a restart" : "");
    if (line.last !== line.seq) line.seqs = line.seq + "–" + line.last;
  }
  return lines;
}

/** The legal hold the ledger says holds now: {on, reason, by, time}, or null. */
export function legalHold(events) {
  let hold = null;
  for (const e of events)
    if (e.type === "LegalHoldChanged") hold = e.details.on ? { reason: e.details.reason, by: e.by, time: e.time } : null;
  return hold;
}

/** The erasure of the recording, if the ledger has one: {reason, by, time}. */
export function erasure(events) {
  const e = events.find((x) => x.type === "RecordingErased");
  return e ? { reason: e.details.reason, by: e.by, time: e.time } : null;
}
