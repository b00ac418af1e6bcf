// js_on_load of the Sources panel and the article list: cards and list items carry data-doc/start/end, and
// a click (or Enter/Space) asks the server for the whole article.
const open = (el) => trigger('click', {doc_id: el.dataset.doc, start: Number(el.dataset.start),
                                        end: Number(el.dataset.end)});
element.addEventListener('click', (e) => {
  const el = e.target.closest('[data-doc]');
  if (el && element.contains(el)) open(el);
});
element.addEventListener('keydown', (e) => {
  const el = e.target.closest('[data-doc]');
  if (el && e.target.tagName !== 'INPUT' && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); open(el); }
});
