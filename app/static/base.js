/* a form sent back with problems: bring the first one into view (on a phone it may be far below) */
(function () {
  var bad = document.querySelector('.has-error');
  if (!bad) return;
  bad.scrollIntoView({block: 'center'});
  var input = bad.querySelector('input:not([type=hidden]), select, textarea');
  if (input) input.focus({preventScroll: true});
})();
