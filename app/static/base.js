/* a form sent back with problems: bring the first one into view (on a phone it may be far below) */
(function () {
  var bad = document.querySelector('.has-error');
  if (!bad) return;
  bad.scrollIntoView({block: 'center'});
  var input = bad.querySelector('input:not([type=hidden]), select, textarea');
  if (input) input.focus({preventScroll: true});
})();

/* an answer to a POST that must not be sent again (a password reset): the address becomes the page's own GET
   address, so a reload shows that page instead of sending the form a second time */
(function () {
  var el = document.querySelector('[data-replace-url]');
  if (el && window.history && history.replaceState) history.replaceState(null, '', el.getAttribute('data-replace-url'));
})();
