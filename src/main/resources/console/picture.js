// Draws a recording's picture as SVG: a row per stream with its waveform (when its audio is
// loaded) and its marked spans, a time axis, and a playhead that follows the player.
import { formatSeconds } from "./console.js";
import { peaks } from "./timeline.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 1000;
const ROW = 64;
const LABEL = 22;
const AXIS = 24;

const NAMES = {
  pause: "paused",
  consent: "held for consent",
  lost: "packets lost",
  failover: "failover gap",
  "store-gap": "storage gap",
};

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The name of a kind of span, as the legend and the list say it. */
export function kindName(kind) {
  return NAMES[kind];
}

/**
 * The picture of {@code axis} with {@code spans}; {@code waveforms} maps a stream's label to its
 * samples ({channel: Int16Array, frames}). Clicking it seeks {@code audio}.
 */
export function drawPicture(container, axis, spans, waveforms, audio) {
  const rows = axis.labels.length;
  const height = rows * (ROW + LABEL) + AXIS;
  const x = (ms) => (axis.durationMs > 0 ? (ms / axis.durationMs) * WIDTH : 0);
  const picture = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${height}`,
    role: "img",
    "aria-label": pictureSummary(axis, spans),
    "data-duration-ms": axis.durationMs.toFixed(1),
    class: "timeline",
  });
  axis.labels.forEach((label, i) => {
    const top = i * (ROW + LABEL) + LABEL;
    const row = svg("g", { class: "stream", "data-stream": label });
    row.append(svg("text", { x: 2, y: top - 6, class: "stream-label" }, label));
    row.append(svg("rect", { x: 0, y: top, width: WIDTH, height: ROW, class: "row" }));
    // Shaded spans under the waveform, cuts (no length on the audio) over it.
    const own = spans.filter((s) => s.stream === label);
    const isCut = (s) => x(s.endMs) - x(s.startMs) < 0.5;
    for (const span of own.filter((s) => !isCut(s))) row.append(spanMark(span, top, x));
    const wave = waveforms[label];
    if (wave) {
      let d = "";
      const mid = top + ROW / 2;
      peaks(wave.channel, wave.frames, WIDTH).forEach(([low, high], column) => {
        d += `M${column + 0.5},${(mid - high * (ROW / 2)).toFixed(1)}V${(mid - low * (ROW / 2) + 0.5).toFixed(1)}`;
      });
      row.append(svg("path", { d, class: "wave", "data-stream": label }));
    } else {
      row.append(
        svg("text", { x: WIDTH / 2, y: top + ROW / 2 + 4, class: "no-wave" }, "choose this stream above to see its waveform")
      );
    }
    for (const span of own.filter(isCut)) row.append(spanMark(span, top, x));
    picture.append(row);
  });
  picture.append(timeAxis(axis, rows * (ROW + LABEL), x));
  const playhead = svg("line", { x1: 0, x2: 0, y1: 0, y2: rows * (ROW + LABEL), class: "playhead" });
  picture.append(playhead);
  picture.addEventListener("click", (event) => {
    if (!audio.duration) return;
    const box = picture.getBoundingClientRect();
    audio.currentTime = ((event.clientX - box.left) / box.width) * audio.duration;
  });
  const follow = () => {
    const at = audio.duration ? (audio.currentTime / audio.duration) * WIDTH : 0;
    playhead.setAttribute("x1", at);
    playhead.setAttribute("x2", at);
  };
  audio.addEventListener("timeupdate", follow);
  audio.addEventListener("seeked", follow);
  container.replaceChildren(picture);
}

function spanMark(span, top, x) {
  const from = x(span.startMs);
  const width = x(span.endMs) - from;
  const cut = width < 0.5;
  const attributes = {
    class: `span ${span.kind}${cut ? " cut" : ""}${span.precise ? "" : " approximate"}`,
    "data-kind": span.kind,
    "data-stream": span.stream,
    "data-start-ms": span.startMs.toFixed(1),
    "data-end-ms": span.endMs.toFixed(1),
  };
  const g = svg("g", attributes);
  const title = `${NAMES[span.kind]} ${formatSeconds(span.startMs / 1000)}–${formatSeconds(span.endMs / 1000)}: ${span.text}`;
  g.append(svg("title", {}, cut ? title + " (cut from the export)" : title));
  if (!span.precise) {
    g.append(svg("rect", { x: from, y: top + ROW - 5, width: Math.max(width, 2), height: 5 }));
    return g;
  }
  g.append(svg("rect", { x: cut ? from - 1.5 : from, y: top, width: cut ? 3 : Math.max(width, 1), height: ROW }));
  if (width > 60 || cut)
    g.append(svg("text", { x: from + 4, y: top + 13, class: "span-label" }, NAMES[span.kind]));
  return g;
}

function timeAxis(axis, top, x) {
  const g = svg("g", { class: "axis" });
  const seconds = axis.durationMs / 1000;
  const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800].find((s) => seconds / s <= 10) || 3600;
  for (let t = 0; t <= seconds; t += step) {
    const at = x(t * 1000);
    g.append(svg("line", { x1: at, x2: at, y1: top, y2: top + 5 }));
    g.append(svg("text", { x: at + 2, y: top + 17 }, formatSeconds(t)));
  }
  return g;
}

function pictureSummary(axis, spans) {
  const precise = spans.filter((s) => s.precise);
  return (
    `The recording's ${axis.labels.length} streams over ${formatSeconds(axis.durationMs / 1000)}` +
    (precise.length
      ? ", with " + precise.map((s) => `${NAMES[s.kind]} on ${s.stream} from ${formatSeconds(s.startMs / 1000)} to ${formatSeconds(s.endMs / 1000)}`).join("; ")
      : ", with no marked span")
  );
}

/** The legend: each kind of span the picture may show, with its swatch. */
export function legend(container) {
  container.replaceChildren(
    ...Object.entries(NAMES).map(([kind, name]) => {
      const item = document.createElement("span");
      item.className = "legend-item";
      const swatch = document.createElementNS(SVG, "svg");
      swatch.setAttribute("viewBox", "0 0 12 12");
      swatch.setAttribute("class", "swatch");
      swatch.setAttribute("aria-hidden", "true");
      const g = svg("g", { class: `span ${kind}` });
      g.append(svg("rect", { x: 0, y: 0, width: 12, height: 12 }));
      swatch.append(g);
      item.append(swatch, " " + name);
      return item;
    })
  );
}
