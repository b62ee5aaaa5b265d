// The sign-in page: the key typed here is kept in this tab's sessionStorage only and sent to this
// hub only, as `Authorization: Bearer`. The hub says which role the key has (GET /v1/whoami), and
// the page offers that role's pages.
import { capitalise, el, frame, key, notice, PAGES, roleName } from "./common.js";

function signedIn(who) {
  const gate = document.getElementById("gate");
  document.getElementById("signin-panel").hidden = true;
  const place = who.place ? ` of ${who.place}` : "";
  if (!who.pages.length) {
    gate.replaceChildren(el("div", { class: "notice error", role: "alert", id: "no-pages" },
      el("p", {}, `${capitalise(roleName(who.role))} key${who.agency ? ` (${who.agency})` : ""} has no dashboard pages.`),
      el("p", {}, "Agencies publish their events to the hub (", el("code", {}, "hub publish"), ") and see their own submissions through the API; the commissioners' pages are not open to an agency key. Sign out and sign in with a commissioner's, steward's or auditor's key to see the dashboard.")));
    return;
  }
  gate.replaceChildren(el("div", { class: "notice ok" },
    el("p", {}, `Signed in as ${roleName(who.role)}${place}. Your pages:`),
    el("ul", { class: "pages" }, who.pages.map((p) => el("li", {}, el("a", { href: PAGES[p].path }, PAGES[p].title))))));
}

async function main() {
  const form = document.getElementById("signin");
  const input = document.getElementById("key");
  if (key.get()) {
    const who = await frame("");
    if (who) signedIn(who);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const typed = input.value.trim();
    if (!typed) {
      notice(document.getElementById("gate"), "Type or paste your key first: it looks like hub.1a2b3c4d.<secret>.");
      input.focus();
      return;
    }
    key.set(typed);
    input.value = "";
    const who = await frame("");
    if (!who) {
      input.focus();
      return;
    }
    if (who.pages.length === 1) {
      window.location.assign(PAGES[who.pages[0]].path);
      return;
    }
    signedIn(who);
  });
}

main();
