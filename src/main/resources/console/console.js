// The console's shared parts: the credential a person signed in with, the API client that sends
// it, and the navigation every page shows. Pages carry no data: all of it comes from the API, and
// the API's roles decide what anyone sees.

const CREDENTIAL = "callvault.credential";
const SIGN_IN_MESSAGE = "callvault.sign-in-message";

/** A refusal or failure of the API, with its status and the message its JSON error carries. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The credential of this tab's session (an API key or a sign-in token), or null. */
export function credential() {
  return sessionStorage.getItem(CREDENTIAL);
}

export function signIn(value) {
  sessionStorage.setItem(CREDENTIAL, value.trim());
}

/** Forgets the credential; {@code message}, if any, is shown on the sign-in form. */
export function signOut(message) {
  sessionStorage.removeItem(CREDENTIAL);
  if (message) sessionStorage.setItem(SIGN_IN_MESSAGE, message);
  else sessionStorage.removeItem(SIGN_IN_MESSAGE);
}

/** The message the last sign-out left for the sign-in form, once. */
export function takeSignInMessage() {
  const message = sessionStorage.getItem(SIGN_IN_MESSAGE);
  sessionStorage.removeItem(SIGN_IN_MESSAGE);
  return message;
}

/** Back to the sign-in form, coming back to this page once signed in again. */
export function toSignIn(message) {
  signOut(message);
  const page = location.pathname.replace(/^.*\//, "");
  if (page === "index.html") location.assign("index.html");
  else location.assign("index.html?next=" + encodeURIComponent(page + location.search));
}

/**
 * A request to the API with the session's credential. Answers the response once it is 2xx; throws
 * an ApiError otherwise. A 401 ends the session and returns to the sign-in form with its reason.
 */
export async function request(method, path, body) {
  const headers = { Authorization: "Bearer " + (credential() || "") };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.ok) return response;
  const message = await errorOf(response);
  if (response.status === 401) {
    toSignIn("The API refused the credential: " + message);
  }
  throw new ApiError(response.status, message);
}

/** The JSON of a 2xx answer to {@code method path}. */
export async function json(method, path, body) {
  return (await request(method, path, body)).json();
}

async function errorOf(response) {
  try {
    const error = await response.json();
    return error.error || response.statusText;
  } catch (notJson) {
    return response.status + " " + response.statusText;
  }
}

/** Who the session's credential is: {principal, roles}. */
export async function me() {
  return json("GET", "/v1/me");
}

/** An element with attributes and children (text or elements); no HTML is ever parsed. */
export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.substring(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A time of the API (ISO-8601) as people read it: date and time to the millisecond, UTC. */
export function formatTime(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").replace(/(\.\d{3})\d*/, "$1").replace("Z", " UTC");
}

/** A time of the API's wall clocks (epoch microseconds) as {@link formatTime} shows it. */
export function formatMicros(micros) {
  return formatTime(new Date(Math.floor(micros / 1000)).toISOString());
}

/** Seconds as m:ss.s on the recording's axis. */
export function formatSeconds(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return m + ":" + (s < 10 ? "0" : "") + s.toFixed(1);
}

/**
 * The navigation of every page: the console's parts, who is signed in with which roles, and
 * signing out.
 */
export function navigation(current, who) {
  const part = (name, href) =>
    el("a", { href, "aria-current": name === current ? "page" : null }, name);
  const nav = el(
    "nav",
    { "aria-label": "Console" },
    el("a", { href: "index.html", class: "brand" }, "CallVault"),
    el(
      "ul",
      {},
      el("li", {}, part("Calls", "calls.html")),
      el("li", {}, part("Live", "live.html")),
      el("li", {}, part("Open a call", "index.html#open"))
    )
  );
  if (who) {
    nav.append(
      el(
        "div",
        { class: "who" },
        el("span", { id: "principal" }, who.principal),
        " ",
        el("span", { id: "roles", class: "roles" }, who.roles.length ? who.roles.join(", ") : "no role"),
        " ",
        el(
          "button",
          {
            type: "button",
            id: "sign-out",
            onclick: () => {
              signOut("Signed out.");
              location.assign("index.html");
            },
          },
          "Sign out"
        )
      )
    );
  }
  const header = document.querySelector("header");
  header.replaceChildren(nav);
}
