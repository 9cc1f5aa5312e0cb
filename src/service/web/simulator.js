// The resident simulator: talks to the bot through /simulator/send and shows what the stand-in
// Graph API recorded, as WhatsApp would.
"use strict";
const chat = document.getElementById("chat");
const statusEl = document.getElementById("status");
// The office's clock, whatever the visitor's computer says.
const TZ = "Europe/Amsterdam";
// The simulated phone: a random key that stays in this browser (never in the address). The
// service derives the resident's number from it, so only this page reads this resident's replies.
let phone = localStorage.getItem("triage-sim-phone") || newPhone();
let since = 0;

function newPhone() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  const p = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  localStorage.setItem("triage-sim-phone", p);
  return p;
}

// Text with clickable links, built from text nodes (never innerHTML).
function linked(el, text) {
  const parts = text.split(/(https?:\/\/[^\s]+)/g);
  for (const p of parts) {
    if (/^https?:\/\//.test(p)) {
      const a = document.createElement("a");
      a.href = p; a.textContent = p; a.target = "_blank"; a.rel = "noopener";
      el.appendChild(a);
    } else {
      el.appendChild(document.createTextNode(p));
    }
  }
}

// No clock time on the bubbles: with the test clock the demo's time is not the computer's.
function bubble(side, text, extra) {
  const el = document.createElement("div");
  el.className = "msg " + side + (extra && extra.kind === "template" ? " template" : "");
  // Right-to-left text (Arabic) reads from the right; each bubble by its own first letters.
  const body = document.createElement("div");
  body.dir = "auto";
  body.className = "text";
  linked(body, text);
  el.appendChild(body);
  if (extra && extra.buttons && extra.buttons.length) {
    const box = document.createElement("div");
    box.className = "buttons";
    for (const b of extra.buttons) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", () => send({ button_id: b.id, button_title: b.title }, b.title));
      box.appendChild(btn);
    }
    el.appendChild(box);
  }
  chat.appendChild(el);
  chat.scrollTop = chat.scrollHeight;
}

async function send(body, shownText) {
  bubble("out", shownText);
  const r = await fetch("/simulator/send", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(Object.assign({ phone, name: document.getElementById("name").value }, body)),
  });
  if (!r.ok) statusEl.textContent = "Niet verstuurd: " + (await r.text());
}

async function poll() {
  try {
    const r = await fetch("/simulator/replies", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phone, since }),
    });
    if (r.ok) {
      for (const m of await r.json()) {
        since = Math.max(since, m.seq);
        bubble("in", m.text, m);
      }
    }
  } catch (e) { /* the service restarts; try again */ }
  setTimeout(poll, 700);
}

async function showClock() {
  const r = await fetch("/simulator/clock");
  if (!r.ok) return;
  const c = await r.json();
  document.getElementById("clockbox").hidden = !c.settable;
  statusEl.textContent = "Tijd van de demo: " +
    new Date(c.now).toLocaleString("nl-NL", { timeZone: TZ, dateStyle: "full", timeStyle: "short" }) +
    (c.open ? " (geopend)" : " (gesloten)");
}

async function setClock(local) {
  // The office's timezone: the demo's presets are Dutch wall-clock times (UTC+1 in winter).
  const at = local.length === 16 ? local + ":00+01:00" : local;
  // Moving the clock is for editors and admins: the session's CSRF token goes with it.
  const me = await fetch("/api/me", { credentials: "same-origin" });
  if (!me.ok) {
    statusEl.textContent = "Meld je eerst aan als demo-admin (op /login) om de klok te verzetten.";
    return;
  }
  const { csrf } = await me.json();
  const r = await fetch("/simulator/clock", {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrf || "" },
    body: JSON.stringify({ at }),
  });
  if (!r.ok) {
    statusEl.textContent = r.status === 403
      ? "Alleen een redacteur of beheerder verzet de klok."
      : "De klok is niet verzet (" + r.status + ").";
    return;
  }
  showClock();
}

document.getElementById("form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = document.getElementById("text");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  send({ text }, text);
});
document.getElementById("new").addEventListener("click", () => {
  phone = newPhone(); since = 0; chat.textContent = "";
  document.getElementById("who").textContent = "inwoner " + phone.slice(0, 4);
});
for (const b of document.querySelectorAll("[data-at]")) {
  b.addEventListener("click", () => setClock(b.dataset.at));
}
// "27-11-2026 19:30" as 2026-11-27T19:30: a text field, not the browser's date picker, which
// writes the browser's language (mm/dd/yyyy in an English browser).
function localTime(text) {
  const m = /^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})[ T,]+(\d{1,2})[:.](\d{2})\s*$/.exec(text);
  if (!m) return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text.trim()) ? text.trim() : null;
  const [, d, mo, y, hh, mm] = m;
  return y + "-" + mo.padStart(2, "0") + "-" + d.padStart(2, "0") + "T" + hh.padStart(2, "0") + ":" + mm;
}
document.getElementById("setclock").addEventListener("click", () => {
  const v = document.getElementById("at").value;
  if (!v.trim()) return;
  const at = localTime(v);
  if (at) setClock(at);
  else statusEl.textContent = "“" + v + "” is geen tijdstip. Typ bijvoorbeeld 27-11-2026 19:30.";
});
document.getElementById("who").textContent = "inwoner " + phone.slice(0, 4);
showClock();
setInterval(showClock, 15000);
poll();
