// js_on_load of the Sources panel and the article list: cards and list items carry data-doc/start/end, and
// a click (or Enter/Space) asks the server for the whole article. A "rag-open" event (the turn scrolled into
// view, ui.js) asks the same without moving the page; so does a new answer's first source in the Sources panel
// (ui.js `newest`). A reader's own open pins the article (ui.js). In the list, ↻ re-indexes an article and ✕ removes it
// after a second click on "Remove?".
const open = (el, opened) => {
  if (opened === 'user' && window.__rag) window.__rag.pinned = true;
  trigger('click', {doc_id: el.dataset.doc, start: Number(el.dataset.start), end: Number(el.dataset.end), opened});
};
const act = (b) => {
  if (b.dataset.act === 'remove' && !b.classList.contains('confirm')) {
    b.classList.add('confirm');
    b.innerText = 'Remove?';
    setTimeout(() => { b.classList.remove('confirm'); b.innerText = '✕'; }, 4000);
    return;
  }
  b.disabled = true;
  const shown = document.querySelector('#article .article-view');
  trigger('click', {doc_id: b.closest('[data-doc]').dataset.doc, action: b.dataset.act,
                    shown: shown ? shown.dataset.doc : ''});
};
element.addEventListener('click', (e) => {
  const b = e.target.closest('[data-act]');
  if (b && element.contains(b)) { act(b); return; }
  const el = e.target.closest('[data-doc]');
  if (el && element.contains(el)) open(el, 'user');
});
element.addEventListener('rag-open', (e) => open(e.target, 'auto'));
element.addEventListener('keydown', (e) => {
  const el = e.target.closest('[data-doc]');
  if (el && !['INPUT', 'BUTTON'].includes(e.target.tagName) && (e.key === 'Enter' || e.key === ' ')) {
    e.preventDefault();
    open(el, 'user');
  }
});
if (element.closest('#sources')) watch('value', () => window.__rag && window.__rag.newest(element));
