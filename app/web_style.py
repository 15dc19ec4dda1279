"""The page's look and its one small script: readable marks in light and dark, and [n] links that open their card."""
from __future__ import annotations

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
</script>"""
