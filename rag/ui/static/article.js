// js_on_load of the Article panel. After an article is shown, scroll the quote into the middle of the article's
// own box: the page does not move, so the question box stays in view. On a phone, where the article is below
// everything, a click brings it up.
watch('value', () => {
  const m = element.querySelector('mark.article-quote');
  const body = element.querySelector('.article-body');
  if (body) body.scrollTop = 0;
  if (m && window.__rag) window.__rag.scrollInPanel(m);
  const view = element.querySelector('.article-view');
  if (view && view.dataset.opened === 'user' && window.matchMedia('(max-width: 480px)').matches)
    element.scrollIntoView({behavior: 'instant', block: 'start'});
});
