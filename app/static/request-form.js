/* show only the reasons of the chosen kind (the server checks them anyway) */
(function () {
  var kind = document.getElementById('case-kind'), reason = document.getElementById('case-reason');
  if (!kind || !reason) return;
  var labels = {};
  for (var i = 0; i < kind.options.length; i++) labels[kind.options[i].value] = kind.options[i].text;
  function sync() {
    /* keep the reason the user chose (the same reason stands in several kinds' groups) */
    var want = reason.value, groups = reason.getElementsByTagName('optgroup'), first = null, same = null;
    for (var g = 0; g < groups.length; g++) {
      var on = groups[g].label === labels[kind.value];
      groups[g].hidden = !on; groups[g].disabled = !on;
      if (on) { for (var o = 0; o < groups[g].children.length; o++) {
        if (!first) first = groups[g].children[o];
        if (groups[g].children[o].value === want) same = groups[g].children[o]; } }
    }
    if (same || first) (same || first).selected = true;
  }
  kind.addEventListener('change', sync); sync();
})();
