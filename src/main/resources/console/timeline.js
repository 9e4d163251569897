// A recording's picture: where, on the audio a person hears, each stream was paused, held for
// consent, lost packets, or lost audio to a failover or to storage; and the waveform under it.
//
// Everything is placed on the export's own axis, as export/Timeline.java lays it out: the axis
// starts at the first stored sample of any stream (timeline.startMicros); a wall-clock time t of
// stream L sits at t - startMicros less the spans cut from L's channel before t (timeline
// streams[].removed: under pauseRendering SKIP the paused and consent-held spans are cut out, each
// channel by its own clock; under SILENCE nothing is cut and they play as silence). A span cut out
// has no length on the axis: it shows as a mark where the cut is.

/** An ISO-8601 time of the API as epoch microseconds (the API's times carry up to µs). */
export function isoMicros(iso) {
  const match = /^(.*?)(?:\.(\d+))?Z$/.exec(iso);
  const whole = Date.parse(match[1] + "Z");
  const fraction = (match[2] || "").padEnd(6, "0").substring(0, 6);
  return whole * 1000 + Number(fraction);
}

/** The axis of an export, from GET /v1/calls/{id}/timeline. */
export function axisOf(timeline) {
  const removed = {};
  const chunks = {};
  for (const s of timeline.streams) {
    removed[s.label] = s.removed.map((r) => [r.startMicros, r.endMicros]);
    chunks[s.label] = s.chunks;
  }
  return {
    startMicros: timeline.startMicros,
    rate: timeline.sampleRate,
    samples: timeline.samples,
    durationMs: (timeline.samples * 1000) / timeline.sampleRate,
    rendering: timeline.pauseRendering,
    labels: timeline.streams.map((s) => s.label),
    removed,
    chunks,
  };
}

/**
 * Where wall-clock time {@code micros} of stream {@code label} is heard, in milliseconds from the
 * start of the export; a time inside a span cut out is heard where the cut is.
 */
export function audioMs(axis, label, micros) {
  let cut = 0;
  let t = micros;
  for (const [start, end] of axis.removed[label] || []) {
    if (t >= end) cut += end - start;
    else {
      if (t >= start) t = start;
      break;
    }
  }
  return (t - axis.startMicros - cut) / 1000;
}

/** The gap causes of MediaGap, as the picture groups them. */
const FAILOVER = new Set(["NODE_FAILURE", "HANDOFF"]);

const CAUSES = {
  NODE_FAILURE: "the node receiving it died",
  HANDOFF: "lost while the call moved to another node",
  STORE_OVERLOAD: "storage fell behind",
  STORE_FAILURE: "storage failed",
  SPOOL_FULL: "storage was down and the spool was full",
  SPOOL_FAILURE: "storage was down and the spool failed",
};

/** Why a MediaGap's audio is missing, in words. */
export function causeInWords(cause) {
  return CAUSES[cause] || cause;
}

/**
 * The spans to mark on each stream, each {kind, stream, startMs, endMs, text, precise}, in the
 * export's milliseconds, clipped to it; {@code text} says who or why. Kinds: pause, consent, lost,
 * failover, store-gap. A span cut from the export has startMs === endMs.
 *
 * @param call the call resource (its pauses and policy)
 * @param axis the export's axis ({@link axisOf})
 * @param events the ledger's events
 */
export function spansOf(call, axis, events) {
  const spans = [];
  const endMicros = lastMicros(axis, events);
  const add = (kind, stream, fromMicros, toMicros, text) => {
    const startMs = clip(audioMs(axis, stream, fromMicros), axis);
    const endMs = clip(audioMs(axis, stream, toMicros), axis);
    // Nothing of it on the axis: before the first stored sample, or after the last.
    const outside = endMs <= 0 || audioMs(axis, stream, fromMicros) > axis.durationMs;
    if (!outside) spans.push({ kind, stream, startMs, endMs, text, precise: true });
  };
  // A span in which a stream's gate was closed (a pause, a hold for consent) is placed by the
  // stream's own RTP clock, as the export places its audio: the first chunk stored after the gate
  // reopened names the first packet the gate dropped, so the closed span ends where that chunk
  // starts and begins that many samples before. A sender held back while its gate was closed
  // makes its RTP clock fall behind the ledger's wall clock, by as much as it was held. Under SKIP
  // a span in which the whole call was not recording is cut from every channel: it is marked,
  // with no length, where the cut is. Without such a chunk (the call stopped while it was closed,
  // or the sender sent nothing), the ledger's times place it.
  const skip = axis.rendering === "SKIP";
  const reopened = gateReopenings(axis, events);
  const holds = [];
  for (const pause of call.pauses) {
    const from = isoMicros(pause.start);
    const to = pause.end ? isoMicros(pause.end) : endMicros;
    const text = "by " + pause.by + (pause.reason ? ": " + pause.reason : "");
    for (const label of axis.labels) holds.push({ kind: "pause", stream: label, from, to, text, cut: skip });
  }
  for (const h of consentHolds(call.policy, events, endMicros))
    holds.push({ kind: "consent", stream: h.stream, from: h.from, to: h.to, text: h.text, cut: skip && h.wholeCall });
  // A reopening belongs to the hold of its stream that ended last before its chunk was listed.
  for (const r of reopened) {
    let last = null;
    for (const h of holds) if (h.stream === r.stream && h.to <= r.listed && (!last || h.to > last.to)) last = h;
    for (const h of holds) if (last && h.stream === r.stream && h.to === last.to) h.gate = r;
  }
  for (const h of holds) {
    if (h.gate) {
      if (h.gate.toMs <= 0) continue; // before the first stored sample: nothing of it is heard
      const span = { kind: h.kind, stream: h.stream, text: h.text, precise: true };
      spans.push({ ...span, startMs: h.cut ? h.gate.toMs : h.gate.fromMs, endMs: h.gate.toMs });
      continue;
    }
    const cut = h.cut ? removedSpanOf(axis, h.stream, h.from, h.to) : null;
    if (cut) add(h.kind, h.stream, cut[0], cut[0], h.text);
    else add(h.kind, h.stream, h.from, h.cut ? h.from : h.to, h.text);
  }
  for (const e of events) {
    if (e.type !== "MediaGap") continue;
    const d = e.details;
    if (!axis.labels.includes(d.label)) continue;
    const kind = FAILOVER.has(d.cause) ? "failover" : "store-gap";
    const text =
      d.packets + " packets missing: " + causeInWords(d.cause) + (d.detail ? " (" + d.detail + ")" : "");
    add(kind, d.label, d.startWallMicros, d.endWallMicros, text);
  }
  for (const label of axis.labels) spans.push(...losses(axis, label, spans));
  return spans;
}

/**
 * Each reopening of a stream's gate the chunks show: {stream, listed (when the ledger listed the
 * chunk, µs), fromMs, toMs (the closed span on the export, by the stream's RTP clock)}.
 */
function gateReopenings(axis, events) {
  const found = [];
  for (const e of events) {
    const chunk = e.type === "ChunkStored" ? e.details.chunk : null;
    if (!chunk || chunk.gatedFromTs == null) continue;
    const placed = (axis.chunks[chunk.label] || []).find((c) => c.epoch === chunk.epoch && c.n === chunk.n);
    if (!placed || placed.position < 0) continue;
    const toMs = (placed.position * 1000) / axis.rate;
    const fromMs = ((placed.position - (placed.firstTs - placed.gatedFromTs)) * 1000) / axis.rate;
    found.push({ stream: chunk.label, listed: isoMicros(e.time), fromMs: Math.max(0, fromMs), toMs });
  }
  return found;
}

/** The span cut from stream {@code label} that overlaps [from, to) most, or null. */
function removedSpanOf(axis, label, from, to) {
  let best = null;
  let bestOverlap = 0;
  for (const span of axis.removed[label] || []) {
    const overlap = Math.min(to, span[1]) - Math.max(from, span[0]);
    if (overlap > bestOverlap) {
      best = span;
      bestOverlap = overlap;
    }
  }
  return best;
}

function clip(ms, axis) {
  return Math.max(0, Math.min(axis.durationMs, ms));
}

/** The last wall-clock time the picture needs: the end of the audio or the last event. */
function lastMicros(axis, events) {
  let last = axis.startMicros;
  for (const chunks of Object.values(axis.chunks))
    for (const c of chunks) last = Math.max(last, c.endWallMicros);
  for (const e of events) last = Math.max(last, isoMicros(e.time));
  return last;
}

/**
 * The spans in which a stream's gate was closed for consent, by the rules of the call entity
 * (call/Call.java): every stream while an all-party call waits for a party's consent or after a
 * decline halted the call (onDecline STOP), {@code wholeCall}; a stream whose own party declined or
 * withdrew.
 */
export function consentHolds(policy, events, endMicros) {
  const parties = new Map();
  const streams = new Map();
  let halted = null;
  const refused = (consent) => consent === "DECLINED" || consent === "WITHDRAWN";
  /** Why stream {@code label} is held for consent now, and whether the whole call is; or null. */
  const holdOf = (label) => {
    if (halted) return { text: "halted: " + halted + " declined consent", wholeCall: true };
    const party = streams.get(label);
    const consent = parties.get(party);
    if (refused(consent)) return { text: party + " " + consent.toLowerCase() + " consent", wholeCall: false };
    if (policy.consentMode === "ALL_PARTY") {
      const waiting = [...parties].filter(([, c]) => !refused(c) && c !== "GRANTED").map(([p]) => p);
      if (waiting.length) return { text: "awaiting consent of " + waiting.join(", "), wholeCall: true };
    }
    return null;
  };
  const noteRefusal = (party, consent) => {
    if (refused(consent) && policy.onDecline === "STOP" && !halted) halted = party;
  };
  const open = new Map(); // label -> {from, text, wholeCall}
  const spans = [];
  const close = (label, at) => {
    const held = open.get(label);
    if (held) spans.push({ stream: label, from: held.from, to: at, text: held.text, wholeCall: held.wholeCall });
    open.delete(label);
  };
  for (const e of events) {
    const at = isoMicros(e.time);
    const d = e.details;
    if (e.type === "CallCreated") {
      for (const p of d.spec.parties) {
        parties.set(p.id, p.consent || "UNKNOWN");
        noteRefusal(p.id, p.consent);
      }
      for (const s of d.spec.streams) streams.set(s.label, s.party);
    } else if (e.type === "ConsentChanged") {
      parties.set(d.party, d.decision);
      noteRefusal(d.party, d.decision);
    } else if (e.type === "PartyJoined") {
      parties.set(d.party.id, d.party.consent || "UNKNOWN");
      noteRefusal(d.party.id, d.party.consent);
    } else if (e.type === "StreamsAdded") {
      for (const s of d.streams) streams.set(s.label, s.party);
    } else if (e.type === "Stopped") {
      for (const label of [...open.keys()]) close(label, at);
      break;
    } else continue;
    for (const label of streams.keys()) {
      const hold = holdOf(label);
      const held = open.get(label);
      if (held && held.text !== (hold && hold.text)) close(label, at);
      if (hold && !open.has(label)) open.set(label, { from: at, ...hold });
    }
  }
  for (const label of [...open.keys()]) close(label, endMicros);
  return spans;
}

/**
 * Packets lost on a stream: a hole between two chunks of one segment is placed exactly (by their
 * RTP timestamps); packets missing inside a chunk are counted on the chunk, whose second they fall
 * in (not precise). Holes inside a marked span (a pause, a gap) are that span's, not losses.
 */
function losses(axis, label, marked) {
  const found = [];
  const ms = (samples) => (samples * 1000) / axis.rate;
  const chunks = (axis.chunks[label] || []).filter((c) => c.position >= 0);
  const covered = (startMs, endMs) =>
    marked.some((s) => s.stream === label && s.startMs <= startMs + 20 && s.endMs >= endMs - 20);
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i];
    const missing = c.lastSeq - c.firstSeq + 1 - c.packets;
    const startMs = ms(c.position);
    const endMs = ms(c.position + (c.endTs - c.firstTs));
    if (missing > 0)
      found.push({
        kind: "lost",
        stream: label,
        startMs,
        endMs,
        text: missing + (missing === 1 ? " packet" : " packets") + " lost in this second",
        precise: false,
      });
    const next = chunks[i + 1];
    if (!next || next.epoch !== c.epoch || next.segment !== c.segment || next.gatedFromTs != null)
      continue;
    const hole = next.firstTs - c.endTs;
    const nextMs = ms(next.position);
    if (hole > 0 && nextMs > endMs && !covered(endMs, nextMs))
      found.push({
        kind: "lost",
        stream: label,
        startMs: endMs,
        endMs: nextMs,
        text: Math.round(hole / 160) + " packets lost between chunks",
        precise: true,
      });
  }
  return found;
}

/** The channels of a 16-bit PCM WAV file as Int16Arrays, and its rate. */
export function pcmOf(buffer) {
  const view = new DataView(buffer);
  const tag = (at) => String.fromCharCode(...new Uint8Array(buffer, at, 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("not a WAV file");
  let at = 12;
  let channels = 0;
  let rate = 0;
  while (at + 8 <= buffer.byteLength) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    if (id === "fmt ") {
      channels = view.getUint16(at + 10, true);
      rate = view.getUint32(at + 12, true);
      if (view.getUint16(at + 22, true) !== 16) throw new Error("not 16-bit PCM");
    } else if (id === "data") {
      const frames = Math.floor(Math.min(size, buffer.byteLength - at - 8) / (2 * channels));
      const out = [];
      for (let c = 0; c < channels; c++) out.push(new Int16Array(frames));
      for (let f = 0; f < frames; f++)
        for (let c = 0; c < channels; c++)
          out[c][f] = view.getInt16(at + 8 + 2 * (f * channels + c), true);
      return { rate, channels: out, frames };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error("no audio in the WAV file");
}

/** Each of {@code columns} columns' lowest and highest sample, from -1 to 1. */
export function peaks(samples, frames, columns) {
  const out = [];
  for (let x = 0; x < columns; x++) {
    const from = Math.floor((x * frames) / columns);
    const to = Math.max(from + 1, Math.floor(((x + 1) * frames) / columns));
    let low = 0;
    let high = 0;
    for (let i = from; i < to && i < frames; i++) {
      if (samples[i] < low) low = samples[i];
      if (samples[i] > high) high = samples[i];
    }
    out.push([low / 32768, high / 32768]);
  }
  return out;
}
