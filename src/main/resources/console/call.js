// A call's page: its parties and their consent, its recording (player, and a picture of each
// stream's timeline with what is missing and why), its ledger in words with the verification of
// its hash chain, and, for the compliance role, legal hold and erasure.
import { ApiError, el, formatSeconds, formatTime, json, me, navigation, request, toSignIn, credential } from "./console.js";
import { ledgerLines, legalHold, erasure } from "./ledger.js";
import { axisOf, pcmOf, spansOf } from "./timeline.js";
import { drawPicture, kindName, legend } from "./picture.js";

const callId = new URLSearchParams(location.search).get("id") || "";
const base = "/v1/calls/" + encodeURIComponent(callId);
const byId = (id) => document.getElementById(id);

/** What the page has read: the call, its timeline's axis, its ledger, the spans and waveforms. */
const page = { who: null, call: null, axis: null, events: [], spans: [], waveforms: {}, audioUrl: null };

function say(id, message) {
  const shown = byId(id);
  shown.textContent = message || "";
  shown.hidden = !message;
}

function can(role) {
  return page.who.roles.includes(role);
}

async function start() {
  if (!credential()) return toSignIn("Sign in to see call " + callId + ".");
  byId("call-id").textContent = callId;
  document.title = "Call " + callId + " — CallVault console";
  page.who = await me();
  navigation("", page.who);
  if (!callId) return say("page-message", "No call id: open a call from the first page.");
  try {
    page.call = await json("GET", base);
  } catch (e) {
    return say("page-message", e.message);
  }
  showCall();
  if (!can("supervisor") && !can("compliance"))
    return say("page-message", "Listening to a call and reading its ledger need the supervisor or compliance role.");
  const [timeline, ledger] = await Promise.all([json("GET", base + "/timeline"), json("GET", base + "/ledger")]);
  page.axis = axisOf(timeline);
  page.events = ledger.events;
  page.spans = spansOf(page.call, page.axis, page.events);
  showLedger();
  showRecording();
  if (can("compliance")) {
    showCompliance();
    verify();
  } else {
    byId("verification").textContent = "The verification of the hash chain is for the compliance role.";
  }
  await loadAudio();
}

function showCall() {
  const call = page.call;
  byId("call-state").textContent = call.state.toLowerCase().replace("_", " ");
  byId("call-state").dataset.state = call.state;
  const item = (term, value) => (value ? [el("dt", {}, term), el("dd", {}, value)] : []);
  byId("summary").replaceChildren(
    ...item("Created", formatTime(call.createdAt)),
    ...item("Stopped", call.stoppedAt && formatTime(call.stoppedAt) + " by " + call.stoppedBy),
    ...item("Consent", call.policy.consentMode.replace("_", "-").toLowerCase() + ", on decline " + call.policy.onDecline.replace("_", " ").toLowerCase()),
    ...item("Pauses in the audio", call.policy.pauseRendering === "SKIP" ? "cut out" : "kept as silence"),
    ...item("Retention", call.policy.retentionDays + " days"),
    ...item("Streams", call.streams.map((s) => `${s.label} (${s.party}, ${s.codec})`).join(", "))
  );
  byId("parties").tBodies[0].replaceChildren(
    ...call.parties.map((p) =>
      el(
        "tr",
        { "data-party": p.id },
        el("td", {}, p.id),
        el("td", {}, p.role.toLowerCase()),
        el("td", {}, p.name || ""),
        el("td", { class: "consent", "data-consent": p.consent }, p.consent.toLowerCase()),
        el("td", {}, p.consentBy || ""),
        el("td", {}, formatTime(p.consentAt))
      )
    )
  );
  byId("parties-section").hidden = false;
}

function showLedger() {
  const body = byId("ledger").tBodies[0];
  const showReads = byId("show-reads").checked;
  body.replaceChildren(
    ...ledgerLines(page.events)
      .filter((line) => showReads || !line.read)
      .map((line) =>
        el(
          "tr",
          { "data-type": line.type, class: line.read ? "read" : null },
          el("td", {}, line.seqs || String(line.seq)),
          el("td", {}, formatTime(line.time)),
          el("td", {}, line.by),
          el("td", { class: "what" }, line.what)
        )
      )
  );
  byId("ledger-section").hidden = false;
}

async function verify() {
  const shown = byId("verification");
  shown.textContent = "Verifying the hash chain…";
  try {
    const v = await json("GET", base + "/ledger/verify");
    shown.dataset.valid = v.valid;
    shown.textContent = v.valid
      ? `The hash chain verifies: ${v.events} events, the last hash ${v.lastHash.substring(0, 16)}…`
      : `The hash chain does NOT verify: it breaks at event ${v.brokenAt} (${v.reason}).`;
  } catch (e) {
    shown.textContent = "The chain could not be verified: " + e.message;
  }
}

function showRecording() {
  const select = byId("layout");
  const labels = page.axis.labels;
  const options = [];
  if (labels.length >= 2)
    options.push(el("option", { value: "layout=stereo" }, `Both: ${labels[0]} left, ${labels[1]} right`));
  for (const label of labels)
    options.push(el("option", { value: "layout=stream&label=" + encodeURIComponent(label) }, "Only " + label));
  if (labels.length > 2) options.push(el("option", { value: "layout=mono" }, "All streams mixed"));
  select.replaceChildren(...options);
  select.onchange = () => loadAudio();
  legend(byId("legend"));
  byId("spans").tBodies[0].replaceChildren(
    ...page.spans
      .filter((s) => s.precise)
      .sort((a, b) => a.startMs - b.startMs)
      .map((s) =>
        el(
          "tr",
          { "data-kind": s.kind },
          el("td", {}, s.stream),
          el("td", {}, formatSeconds(s.startMs / 1000)),
          el("td", {}, formatSeconds(s.endMs / 1000)),
          el("td", {}, kindName(s.kind) + (s.endMs - s.startMs < 0.5 ? " (cut from the audio)" : "")),
          el("td", {}, s.text)
        )
      )
  );
  byId("recording").hidden = false;
  draw();
}

function draw() {
  drawPicture(byId("picture"), page.axis, page.spans, page.waveforms, byId("audio"));
}

/** Fetches the export chosen (with the credential: an audio element cannot send it) and plays it. */
async function loadAudio() {
  const chosen = byId("layout").value;
  const status = byId("audio-status");
  const audio = byId("audio");
  if (erasure(page.events)) {
    status.textContent = "The audio was erased; the ledger keeps the facts.";
    return;
  }
  status.textContent = "Loading the audio…";
  let buffer;
  try {
    buffer = await (await request("GET", base + "/audio.wav?" + chosen)).arrayBuffer();
  } catch (e) {
    status.textContent = "The audio could not be loaded: " + e.message;
    return;
  }
  if (page.audioUrl) URL.revokeObjectURL(page.audioUrl);
  page.audioUrl = URL.createObjectURL(new Blob([buffer], { type: "audio/wav" }));
  audio.src = page.audioUrl;
  const pcm = pcmOf(buffer);
  const params = new URLSearchParams(chosen);
  const shown =
    params.get("layout") === "stereo" ? page.axis.labels.slice(0, 2) : params.get("label") ? [params.get("label")] : [];
  page.waveforms = {};
  shown.forEach((label, channel) => (page.waveforms[label] = { channel: pcm.channels[channel], frames: pcm.frames }));
  status.textContent = `${formatSeconds(pcm.frames / pcm.rate)} of audio, ${pcm.channels.length === 2 ? "stereo" : "mono"}`;
  draw();
}

function showCompliance() {
  const section = byId("compliance");
  section.hidden = false;
  const hold = legalHold(page.events);
  const erased = erasure(page.events);
  byId("hold-status").textContent = hold
    ? `On legal hold since ${formatTime(hold.time)}, placed by ${hold.by}: ${hold.reason}.`
    : "No legal hold.";
  byId("hold-button").textContent = hold ? "Lift the legal hold" : "Place a legal hold";
  byId("hold-reason").required = !hold;
  byId("hold-form").dataset.on = String(!hold);
  byId("erase-button").hidden = Boolean(erased);
  if (erased) byId("hold-status").textContent += ` Erased at ${formatTime(erased.time)} by ${erased.by}: ${erased.reason}.`;
}

async function afterChange(done) {
  try {
    await done;
    say("compliance-message", "");
  } catch (e) {
    say("compliance-message", e instanceof ApiError ? e.message : "The node did not answer: " + e.message);
  }
  page.call = await json("GET", base);
  page.events = (await json("GET", base + "/ledger")).events;
  showCall();
  showLedger();
  showCompliance();
  verify();
}

byId("hold-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const on = byId("hold-form").dataset.on === "true";
  const reason = byId("hold-reason").value.trim();
  afterChange(request("POST", base + "/legal-hold", { on, reason: reason || undefined }));
  byId("hold-reason").value = "";
});

byId("erase-button").addEventListener("click", () => {
  byId("erase-id").textContent = callId;
  byId("erase-confirm").value = "";
  byId("erase-submit").disabled = true;
  byId("erase-dialog").showModal();
});
byId("erase-confirm").addEventListener("input", () => {
  byId("erase-submit").disabled = byId("erase-confirm").value !== callId;
});
byId("erase-cancel").addEventListener("click", () => byId("erase-dialog").close());
byId("erase-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (byId("erase-confirm").value !== callId) return;
  byId("erase-dialog").close();
  const reason = byId("erase-reason").value.trim();
  await afterChange(request("DELETE", base + "?reason=" + encodeURIComponent(reason)));
  await loadAudio();
});
byId("show-reads").addEventListener("change", showLedger);

start().catch((e) => {
  if (!(e instanceof ApiError && e.status === 401)) say("page-message", e.message);
});
