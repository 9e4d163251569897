// The live view: every node of the cluster with what it records now, read again every two
// seconds; packet rates and loss from the difference between two readings of a node's counters.
import { el, formatTime, json, me, navigation, toSignIn, ApiError, credential } from "./console.js";

const EVERY_MS = 2000;

/** The last reading of each node's counters, by address: {at (ms), packets}. */
const last = new Map();

function rate(now, before, field, seconds) {
  if (!before || seconds <= 0) return null;
  return Math.max(0, (now[field] - before[field]) / seconds);
}

function row(node, at) {
  const packets = node.packets;
  const before = last.get(node.address);
  const seconds = before ? (at - before.at) / 1000 : 0;
  let received = null;
  let stored = null;
  let loss = null;
  if (packets) {
    received = rate(packets, before && before.packets, "received", seconds);
    stored = rate(packets, before && before.packets, "stored", seconds);
    if (before) {
      const lost = packets.lost - before.packets.lost;
      const got = packets.received - before.packets.received;
      loss = lost + got > 0 ? lost / (lost + got) : 0;
    }
    last.set(node.address, { at, packets });
  }
  const number = (n) => (n === null || n === undefined ? "" : String(Math.round(n)));
  const status = node.reachable ? node.status : node.status + " (no answer)";
  return {
    received,
    element: el(
      "tr",
      { "data-node": node.address, "data-status": node.status, "data-calls": node.calls ?? "" },
      el("td", {}, node.address),
      el("td", {}, status),
      el("td", { class: "calls" }, number(node.calls)),
      el("td", {}, number(node.relayingCalls)),
      el("td", {}, number(node.rtpPortsInUse)),
      el("td", { class: "received-rate" }, number(received)),
      el("td", {}, number(stored)),
      el("td", { class: "loss" }, loss === null ? "" : (loss * 100).toFixed(2) + " %"),
      el("td", {}, node.spool ? node.spool.chunks + " chunks" : ""),
      el("td", {}, number(node.chunksUnstored))
    ),
  };
}

async function refresh() {
  const message = document.getElementById("page-message");
  try {
    const answer = await json("GET", "/v1/nodes");
    const at = Date.now();
    const rows = answer.nodes.map((n) => row(n, at));
    document.querySelector("#nodes tbody").replaceChildren(...rows.map((r) => r.element));
    document.getElementById("nodes-up").textContent = String(
      answer.nodes.filter((n) => n.status === "Up").length
    );
    document.getElementById("calls-total").textContent = String(
      answer.nodes.reduce((sum, n) => sum + (n.calls || 0), 0)
    );
    const rates = rows.map((r) => r.received).filter((r) => r !== null);
    document.getElementById("packets-total").textContent = rates.length
      ? String(Math.round(rates.reduce((a, b) => a + b, 0)))
      : "(after the next reading)";
    document.getElementById("updated").textContent = formatTime(new Date(at).toISOString());
    message.hidden = true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    message.textContent = e instanceof ApiError ? e.message : "The node did not answer: " + e.message;
    message.hidden = false;
  }
  setTimeout(refresh, EVERY_MS);
}

async function start() {
  if (!credential()) return toSignIn();
  try {
    navigation("Live", await me());
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    navigation("Live", null);
  }
  refresh();
}

start();
