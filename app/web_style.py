"""The page's look and its small scripts: readable marks in light and dark, [n] links that open their card, Translate."""
from __future__ import annotations

import json

from app.web_sources import WORDS

# Gradio puts .dark on the page when the OS (or ?__theme=dark) asks for dark: the marks get explicit colours in
# both, since a pale background with the theme's light text was unreadable in dark mode.
CSS = """
.kabar-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 8px; margin: 6px 0;}
.kabar-cited {border-color: var(--color-accent);}
.kabar-article {margin-bottom: 10px;}
.kabar-article-title {margin-bottom: 2px;}
.kabar-facts {color: var(--body-text-color-subdued); font-size: 0.9em;}
.kabar-number {font-weight: 600;}
.kabar-passage {white-space: pre-wrap; font-size: 0.9em;}
.kabar-card {max-height: 14em; overflow-y: auto; padding-top: 0; background: var(--background-fill-primary);}
.kabar-number {display: block; position: sticky; top: 0; padding-top: 6px;
  background: var(--background-fill-primary);}  /* the [n] stays in sight when the card scrolls to its evidence */
.kabar-sources mark, .kabar-passage mark {background: #fde68a; color: #1f2937; border-radius: 2px; padding: 0 1px;}
.dark .kabar-sources mark, .dark .kabar-passage mark {background: #854d0e; color: #fef9c3;}
.kabar-answer-sources summary {cursor: pointer; font-weight: 600;}
.kabar-target {outline: 2px solid var(--color-accent); outline-offset: 2px;}
.kabar-stage {color: var(--body-text-color-subdued); font-style: italic;}
.kabar-heading {font-weight: 600; font-size: 1.1em;}
.kabar-translate {margin-left: 8px; padding: 0 8px; font-size: 0.8em; font-weight: 400; cursor: pointer;
  border: 1px solid var(--border-color-primary); border-radius: 6px; background: var(--background-fill-secondary);
  color: var(--body-text-color);}
.kabar-translate[aria-busy='true'] {opacity: 0.6; cursor: progress;}
.kabar-machine {display: block; margin: 2px 0 4px; padding-left: 6px; border-left: 3px solid var(--color-accent);
  font-size: 0.8em; font-style: italic; color: var(--body-text-color);}
"""

# Seconds keep counting on the newest progress line while an answer runs (the server sends a new line only
# when the step changes), an [n] link opens its answer's collapsed source list and scrolls to the card, and
# each card scrolls to its evidence.
HEAD = """<script>
(() => {
  const running = () => {
    const stop = document.querySelector("[data-testid='stop-button']");
    return stop !== null && stop.offsetParent !== null;
  };
  const started = new WeakMap();  // seconds element -> when its answer started, by the server's count
  setInterval(() => {
    if (!running()) return;
    const all = document.querySelectorAll(".kabar-stage .kabar-seconds");
    const seconds = all[all.length - 1];
    if (!seconds) return;
    if (!started.has(seconds)) started.set(seconds, Date.now() - parseInt(seconds.textContent, 10) * 1000);
    seconds.textContent = Math.floor((Date.now() - started.get(seconds)) / 1000) + " s";
  }, 1000);
  // a card scrolls inside its box to its highlighted evidence, which can sit below the fold; a card in a
  // collapsed source list has no size until the list opens, so it is fitted then
  const fit = (card) => {
    const mark = card.querySelector("mark"), number = card.querySelector(".kabar-number");
    if (!mark || !card.offsetHeight || card.dataset.scrolled === mark.textContent) return;
    card.dataset.scrolled = mark.textContent;
    card.scrollTop = mark.offsetTop - card.offsetTop - (number ? number.offsetHeight : 0) - 8;
  };
  new MutationObserver(() => document.querySelectorAll(".kabar-sources .kabar-card").forEach(fit))
    .observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("toggle", (event) => {
    if (event.target.querySelectorAll) event.target.querySelectorAll(".kabar-card").forEach(fit);
  }, true);
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href^='#source-a']");
    const card = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!card) return;
    event.preventDefault();
    event.stopPropagation();
    const list = card.closest("details");
    if (list) list.open = true;
    card.scrollIntoView({block: "center"});
    document.querySelectorAll(".kabar-target").forEach((old) => old.classList.remove("kabar-target"));
    card.classList.add("kabar-target");
  }, true);
})();
</script>
<script>
// A card's Translate button: its passage in the question's language, from the page's hidden Gradio endpoint
// (app/web_translate.py), shown in place under a "Machine translation" label; the same button shows the
// original again. Translations are kept on the page, so switching back and forth asks the server once.
(() => {
  const words = __WORDS__;
  const done = new Map();  // chunk id + language -> translation
  const root = () => ((window.gradio_config && window.gradio_config.root) || "").replace(/\\/$/, "");
  const ask = async (chunk, language) => {
    const call = root() + "/gradio_api/call/translate_source";
    const started = await fetch(call, {method: "POST", headers: {"Content-Type": "application/json"},
                                       body: JSON.stringify({data: [chunk, language]})});
    if (!started.ok) throw new Error("HTTP " + started.status);
    const {event_id} = await started.json();
    const stream = await (await fetch(call + "/" + event_id)).text();
    const data = stream.split("\\n").filter((line) => line.startsWith("data:")).pop();
    const result = data && JSON.parse(data.slice(5));
    if (!Array.isArray(result) || !result[0]) throw new Error("no translation");
    if (result[0].error) throw new Error(result[0].error);
    return result[0].translation;
  };
  const show = (button, passage, text) => {
    const label = document.createElement("span");
    label.className = "kabar-machine";
    label.textContent = words[button.kabarLanguage].machine;
    passage.replaceChildren(label, document.createTextNode(text));
    button.textContent = words[button.kabarLanguage].original;
    button.dataset.state = "translated";
  };
  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest(".kabar-translate");
    const passage = button && button.closest(".kabar-card").querySelector(".kabar-passage");
    if (!passage || button.getAttribute("aria-busy") === "true") return;
    event.preventDefault();
    event.stopPropagation();
    passage.querySelectorAll(".kabar-translate-error").forEach((note) => note.remove());
    if (button.dataset.state === "translated") {  // back to the original, evidence marks and all
      passage.innerHTML = button.kabarOriginal;
      button.textContent = words[button.kabarLanguage].translate;
      button.dataset.state = "";
      return;
    }
    const named = (prefix) => [...button.classList].find((c) => c.startsWith(prefix)).slice(prefix.length);
    const chunk = named("kabar-chunk-"), key = chunk + " " + named("kabar-to-");
    button.kabarLanguage = named("kabar-to-");
    button.kabarOriginal = passage.innerHTML;
    button.setAttribute("aria-busy", "true");
    try {
      if (!done.has(key)) done.set(key, await ask(chunk, button.kabarLanguage));
      show(button, passage, done.get(key));
    } catch (err) {  // said above the original, which stays; the button tries again
      const note = document.createElement("span");
      note.className = "kabar-machine kabar-translate-error";
      note.textContent = "⚠️ " + String(err.message || err);
      passage.prepend(note);
    } finally {
      button.removeAttribute("aria-busy");
    }
  }, true);
})();
</script>""".replace("__WORDS__", json.dumps(
    {language: {key: WORDS[language][key] for key in ("translate", "original", "machine")} for language in WORDS}))
