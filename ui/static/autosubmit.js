// Submits the SAML form on pages that carry data-autosubmit, so a person
// does not have to press Continue. Without JavaScript the button remains.
(function () {
  var f = document.querySelector("form[data-autosubmit]");
  if (f) { f.submit(); }
})();
