// The search of recordings: the listing's filters in the page's address (so a search can be kept
// and shared), a page of calls at a time, each a link to its page.
import { el, formatTime, json, me, navigation, toSignIn, ApiError, credential } from "./console.js";

const FIELDS = ["from", "to", "party", "state", "source", "incomplete", "limit"];

/** The search the page's address holds, as the API's query (times as ISO instants). */
function searchOfAddress() {
  const given = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const name of FIELDS.concat(["pageToken"])) {
    const value = given.get(name);
    if (value) query.set(name, value);
  }
  return query;
}

/** The form shows the search of the address. */
function fillForm(query) {
  for (const name of FIELDS) {
    const input = document.getElementById(name);
    const value = query.get(name) || "";
    if (input.type === "checkbox") input.checked = value === "true";
    else if (input.type === "datetime-local") input.value = value ? value.replace(/(\.\d+)?Z$/, "") : "";
    else if (value || input.tagName !== "SELECT" || name === "state") input.value = value;
  }
}

/** The form's search: a datetime-local is read as UTC, the times the API and the page show. */
function searchOfForm() {
  const query = new URLSearchParams();
  for (const name of FIELDS) {
    const input = document.getElementById(name);
    if (input.type === "checkbox") {
      if (input.checked) query.set(name, "true");
    } else if (input.type === "datetime-local") {
      if (input.value) query.set(name, (input.value.length === 16 ? input.value + ":00" : input.value) + "Z");
    } else if (input.value.trim()) query.set(name, input.value.trim());
  }
  return query;
}

function completeness(c) {
  if (!c) return "";
  const percent = (c.ratio * 100).toFixed(c.ratio < 1 && c.ratio > 0.999 ? 3 : 1) + " %";
  return c.complete ? "complete" : percent + " (" + c.missing + " missing)";
}

function row(call) {
  const custody = [];
  if (call.legalHold) custody.push("legal hold");
  if (call.erased) custody.push("erased");
  return el(
    "tr",
    { "data-call": call.callId, "data-state": call.state, "data-complete": String(call.completeness.complete) },
    el("td", {}, el("a", { href: "call.html?id=" + encodeURIComponent(call.callId) }, call.callId)),
    el("td", {}, el("span", { class: "state" }, call.state)),
    el("td", {}, formatTime(call.createdAt)),
    el("td", {}, formatTime(call.stoppedAt)),
    el("td", {}, call.source),
    el("td", {}, call.parties.map((p) => p.id + " (" + p.role.toLowerCase() + ", " + p.consent.toLowerCase() + ")").join(", ")),
    el("td", { class: call.completeness.complete ? "complete" : "incomplete" }, completeness(call.completeness)),
    el("td", {}, custody.join(", "))
  );
}

async function show() {
  const query = searchOfAddress();
  fillForm(query);
  const status = document.getElementById("results-status");
  const message = document.getElementById("page-message");
  status.textContent = "Searching…";
  message.hidden = true;
  let page;
  try {
    page = await json("GET", "/v1/calls" + (query.toString() ? "?" + query : ""));
  } catch (e) {
    status.textContent = "";
    if (e instanceof ApiError && e.status === 401) return;
    message.textContent = e instanceof ApiError ? e.message : "The node did not answer: " + e.message;
    message.hidden = false;
    return;
  }
  document.querySelector("#results tbody").replaceChildren(...page.calls.map(row));
  status.textContent =
    page.calls.length === 0
      ? "No call matches."
      : page.calls.length + (page.calls.length === 1 ? " call" : " calls") + (page.nextPageToken ? ", and older ones" : "");
  const next = document.getElementById("next-page");
  next.hidden = !page.nextPageToken;
  next.onclick = () => {
    const on = new URLSearchParams(query);
    on.set("pageToken", page.nextPageToken);
    location.assign("calls.html?" + on);
  };
  const first = document.getElementById("first-page");
  first.hidden = !query.get("pageToken");
  first.onclick = () => {
    const on = new URLSearchParams(query);
    on.delete("pageToken");
    location.assign("calls.html?" + on);
  };
}

document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  location.assign("calls.html?" + searchOfForm());
});

async function start() {
  if (!credential()) return toSignIn();
  try {
    navigation("Calls", await me());
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) navigation("Calls", null);
    if (e instanceof ApiError && e.status === 401) return;
  }
  show();
}

start();
