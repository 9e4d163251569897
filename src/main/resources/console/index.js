// The console's first page: the sign-in form, then who is signed in and a call to open.
import { credential, me, navigation, signIn, takeSignInMessage, ApiError } from "./console.js";

/** Where to go once signed in: a page of the console only, never another site. */
function next() {
  const target = new URLSearchParams(location.search).get("next");
  const page = /^([a-z]+)\.html(\?[^/\\]*)?$/.exec(target || "");
  return page && page[1] !== "index" ? target : null;
}

function showSignIn(message) {
  navigation("", null);
  document.getElementById("home").hidden = true;
  document.getElementById("sign-in").hidden = false;
  const shown = document.getElementById("sign-in-message");
  shown.textContent = message || "";
  shown.hidden = !message;
  document.getElementById("credential").focus();
}

async function showHome() {
  let who;
  try {
    who = await me();
  } catch (e) {
    if (e instanceof ApiError && e.status === 403)
      return showSignIn("This credential carries none of the console's roles: " + e.message);
    if (!(e instanceof ApiError)) return showSignIn("The node did not answer: " + e.message);
    return; // a 401 went back to the sign-in form with its reason
  }
  const target = next();
  if (target) return location.assign(target);
  navigation("Open a call", who);
  document.getElementById("sign-in").hidden = true;
  document.getElementById("home").hidden = false;
  document.getElementById("home-principal").textContent = who.principal;
  document.getElementById("home-roles").textContent = who.roles.join(", ") || "none";
}

document.getElementById("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn(document.getElementById("credential").value);
  showHome();
});

document.getElementById("open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = document.getElementById("call-id").value.trim();
  location.assign("call.html?id=" + encodeURIComponent(id));
});

const message = takeSignInMessage();
if (credential() && !message) showHome();
else showSignIn(message);
