() => {
  // The chat page's behaviour; loaded once by Gradio (demo.launch(js=...)).
  if (window.__rag) return;
  window.__rag = {copied: null};
  const phone = () => window.matchMedia('(max-width: 480px)').matches;

  // scroll `el` into view inside its nearest scrolling panel only: the page (and the question box) stay put
  const scrollInPanel = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (/(auto|scroll)/.test(s.overflowY) && p.scrollHeight > p.clientHeight) {
        const a = el.getBoundingClientRect(), b = p.getBoundingClientRect();
        p.scrollTop += (a.top - b.top) - Math.max(0, (p.clientHeight - a.height) / 2);
        return;
      }
    }
  };
  window.__rag.scrollInPanel = scrollInPanel;

  // [n] in an answer: flash source card n of that answer and open its article at the quote
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a[href^="#src-"]') : null;
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    const card = document.getElementById(a.getAttribute('href').slice(1));
    if (!card) return;
    scrollInPanel(card);
    card.classList.remove('flash');
    void card.offsetWidth;
    card.classList.add('flash');
    card.focus({preventScroll: true});
    card.click();
  }, true);

  // An article the reader opened (a card, an [n], the article list) stays in the Article panel: it follows
  // neither a new answer nor the chat's own scrolling until the reader scrolls the chat or asks again.
  window.__rag.pinned = false;
  const unpin = () => { window.__rag.pinned = false; };
  const within = (e, selector) => !!(e.target && e.target.closest && e.target.closest(selector));
  for (const type of ['wheel', 'touchmove', 'pointerdown']) {
    document.addEventListener(type, (e) => { if (within(e, '#chat')) unpin(); }, {capture: true, passive: true});
  }
  document.addEventListener('keydown', (e) => {
    if (within(e, '#chat') && /^(Arrow|Page|Home$|End$| $)/.test(e.key)) unpin();
    if (e.key === 'Enter' && !e.shiftKey && within(e, '#question')) unpin();
  }, true);
  document.addEventListener('click', (e) => { if (within(e, '#ask, #examples button, #regenerate')) unpin(); }, true);

  // The Article panel follows the answer in view: scrolled to an earlier turn, it shows that turn's first
  // source at its quote (once per turn reached, and not when it shows that quote already). The answer in view
  // is the last one starting above a reading line a third of the way down, or the last one at the bottom.
  let followed = null, settle = null, newest = null;
  const show = (card) => {
    const shown = document.querySelector('#article .article-view');
    if (shown && shown.dataset.doc === card.dataset.doc && shown.dataset.start === card.dataset.start) return;
    card.dispatchEvent(new CustomEvent('rag-open', {bubbles: true}));
  };
  // a new answer's sources (the instant answer's, then the final one's): its first source, at its quote
  window.__rag.newest = (panel) => {
    // the panel lists turns newest first; the newest is the highest turn number, and one without sources opens nothing
    const turns = [...panel.querySelectorAll('[id^=turn-]')];
    const last = turns.sort((a, b) => Number(b.id.split('-')[1]) - Number(a.id.split('-')[1]))[0];
    const card = last && last.querySelector('.src-card');
    const key = card && `${card.id}|${card.dataset.doc}|${card.dataset.start}`;
    if (!card || key === newest) return;
    newest = key;
    if (window.__rag.pinned) return;
    followed = card.id.split('-')[1];
    show(card);
  };
  const follow = (box) => {
    if (window.__rag.pinned) return;
    const answers = Array.from(box.querySelectorAll('[data-testid=bot]')).filter((b) => b.querySelector('a.cite'));
    if (!answers.length) return;
    const view = box.getBoundingClientRect(), line = view.top + view.height / 3;
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 2;
    const inView = atEnd ? answers[answers.length - 1]
      : answers.filter((b) => b.getBoundingClientRect().top <= line).pop() || answers[0];
    const turn = inView.querySelector('a.cite').getAttribute('href').split('-')[1];
    const card = document.querySelector(`#turn-${turn} .src-card`);
    if (!card || turn === followed) return;
    followed = turn;
    show(card);
  };
  document.addEventListener('scroll', (e) => {
    const box = e.target;
    if (!box.closest || !box.closest('#chat')) return;
    clearTimeout(settle);
    settle = setTimeout(() => follow(box), 150);
  }, true);

  // copy an answer: its text and the sources it cites
  document.addEventListener('click', (e) => {
    const b = e.target && e.target.closest ? e.target.closest('.copy-answer') : null;
    if (!b) return;
    e.preventDefault();
    const bubble = b.closest('[data-testid=bot]') || b.parentElement;
    const cite = bubble.querySelector('a.cite');
    const turn = cite ? cite.getAttribute('href').split('-')[1] : null;
    const clone = bubble.cloneNode(true);
    clone.querySelectorAll('.answer-meta, .copy-answer, .searched-for, .filter-note, button').forEach((x) => x.remove());
    let text = clone.innerText.replace(/\n{3,}/g, '\n\n').trim();
    const cards = turn ? document.querySelectorAll(`#turn-${turn} .src-card`) : [];
    if (cards.length) {
      text += '\n\nSources:\n' + Array.from(cards).map((c) => {
        const n = c.querySelector('.src-n').innerText, t = c.querySelector('.src-title').innerText;
        const m = c.querySelector('.src-meta').innerText;
        return `${n} ${t} (${m})`;
      }).join('\n');
    }
    window.__rag.copied = text;
    const done = () => { b.innerText = 'Copied ✓'; setTimeout(() => { b.innerText = 'Copy'; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, done);
    else done();
  }, true);

  // the article list: type to filter it
  document.addEventListener('input', (e) => {
    const box = e.target;
    if (!box.classList || !box.classList.contains('art-search')) return;
    const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    box.closest('#articles').querySelectorAll('.art-item').forEach((li) => {
      const ok = words.every((w) => li.textContent.toLowerCase().includes(w));
      li.style.display = ok ? '' : 'none';
      shown += ok ? 1 : 0;
    });
    const n = box.closest('#articles').querySelector('.art-shown');
    if (n) n.innerText = words.length ? `${shown} shown` : '';
  });

  // Ask is disabled while the box is empty or over the limit; a counter shows the limit as it nears
  const tick = () => {
    const ta = document.querySelector('#question textarea');
    const btn = document.getElementById('ask');
    const counter = document.getElementById('q-counter');
    if (!ta || !btn) return;
    const lim = Number((document.querySelector('[data-question-limit]') || {dataset: {}}).dataset.questionLimit || 0);
    const n = ta.value.trim().length;
    const over = lim && n > lim;
    btn.disabled = n === 0 || over;
    btn.title = n === 0 ? 'Type a question first' : over ? `Shorten the question to ${lim.toLocaleString()} characters` : '';
    if (counter) {
      const text = over ? `${n.toLocaleString()} / ${lim.toLocaleString()} characters: ${(n - lim).toLocaleString()} over the limit`
        : (lim && n >= lim * 0.8) ? `${n.toLocaleString()} / ${lim.toLocaleString()} characters` : '';
      const el = counter.querySelector('.q-count') || counter;
      if (el.innerText !== text) el.innerText = text;
      counter.classList.toggle('over', !!over);
    }
  };
  document.addEventListener('input', tick, true);
  // Enter on an empty box sends nothing (the server would ignore it too, but no request is better)
  document.addEventListener('keydown', (e) => {
    const ta = e.target;
    if (e.key !== 'Enter' || e.shiftKey || !ta.closest || !ta.closest('#question')) return;
    if (!ta.value.trim()) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
  setInterval(tick, 250);

  // a phone: the sidebar starts closed, so the chat and its question box are what a reader sees first
  if (phone()) {
    let tries = 0;
    const closeSidebar = () => {
      const toggle = document.querySelector('.sidebar.open .toggle-button');
      if (toggle) { toggle.click(); return; }
      if (!document.querySelector('.sidebar') && tries++ < 100) setTimeout(closeSidebar, 50);
    };
    closeSidebar();
  }
}
