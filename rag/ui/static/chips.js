// js_on_load of the filter chips: a chip clicked clears its filter.
element.addEventListener('click', (e) => {
  const b = e.target.closest('[data-filter]');
  if (b && element.contains(b)) trigger('click', {filter: b.dataset.filter});
});
