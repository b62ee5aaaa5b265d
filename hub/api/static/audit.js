// The auditor's page: the latest signed checkpoint (origin, tree size, root, the signed note) and
// the last verification's result, with a button that runs a verification now.
import { admit, api, el, frame, notice } from "./common.js";

const NUMBER = new Intl.NumberFormat("en-GB");

function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.filter(Boolean).flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
}

function showCheckpoint(status) {
  const box = document.getElementById("checkpoint");
  const signed = status.checkpoint;
  if (!signed) {
    box.replaceChildren(el("p", {}, `No checkpoint has been signed yet for ${status.origin}: the hub signs one as its worker stores events.`));
    return;
  }
  box.replaceChildren(
    facts([
      ["Origin", el("code", {}, status.origin)],
      ["Tree size", `${NUMBER.format(signed.treeSize)} events`],
      ["Root hash (base64)", el("code", { id: "root" }, signed.root)],
    ]),
    el("h3", {}, "The signed note"),
    el("p", { class: "hint" }, "C2SP tlog-checkpoint, signed with Ed25519: check it with the key ", el("code", {}, "hub audit key"), " prints."),
    el("pre", { class: "note", tabindex: "0", "aria-label": "The signed checkpoint note" }, signed.note),
  );
}

function showVerification(last) {
  const box = document.getElementById("verification");
  if (!last) {
    box.replaceChildren(el("p", { id: "verdict" }, "No verification has run yet: press “Verify now”."));
    return;
  }
  const problem = last.problem;
  const verdict = last.ok
    ? el("p", { class: "verdict ok", id: "verdict" }, "Intact: every leaf recomputed from the stored events matches the ledger and every signed checkpoint.")
    : el("p", { class: "verdict bad", id: "verdict" }, `Not intact: ${problem ? problem.message : "the ledger does not match the stored events"}.`);
  box.replaceChildren(
    verdict,
    facts([
      ["Verified at", last.at || "unknown"],
      ["Leaves", NUMBER.format(last.leaves)],
      ["Stored events", NUMBER.format(last.events)],
      ["Checkpoints checked", NUMBER.format(last.checkpoints)],
      last.root ? ["Root hash (base64)", el("code", {}, last.root)] : null,
      problem ? ["What was found", `${problem.kind}${problem.leaf !== null ? `, leaf ${problem.leaf}` : ""}${problem.position !== null ? `, position ${problem.position}` : ""}${problem.event ? `, event ${problem.event}` : ""}`] : null,
    ]),
  );
}

async function refresh() {
  const status = await api("/v1/audit/status");
  showCheckpoint(status);
  showVerification(status.lastVerify);
  return status;
}

async function main() {
  const who = await frame("audit");
  if (!who || !(await admit(who, "audit", "/v1/audit/status"))) return;
  try {
    await refresh();
  } catch (error) {
    notice(document.getElementById("gate"), error.message);
    return;
  }
  document.getElementById("page").hidden = false;
  const button = document.getElementById("verify");
  const said = document.getElementById("status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    said.textContent = "Verifying: recomputing every leaf from the stored events…";
    try {
      const result = await api("/v1/audit/verify");
      await refresh();
      said.textContent = result.ok
        ? `Verified now: ${NUMBER.format(result.leaves)} leaves and ${NUMBER.format(result.checkpoints)} signed ${result.checkpoints === 1 ? "checkpoint" : "checkpoints"}, intact.`
        : `Verified now: NOT intact. ${result.problem ? result.problem.message : ""}`;
    } catch (error) {
      said.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById("main").dataset.state = "ready";
}

main();
