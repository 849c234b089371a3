/* Keyboard and screen-reader repairs for Dash's own components (loaded on every Dash page).

   dcc.Dropdown (Dash 4) puts Tab focus on a hidden input (aria-hidden, for Safari) that
   hands it on to the real button; assistive technology is told that the focused element
   does not exist (axe: aria-hidden-focus). Here the button itself takes Tab focus and the
   hidden input leaves the Tab order; Dash's own handlers keep working (Enter, Space and
   Arrow Down open the list on the button). A MutationObserver keeps the fix when Dash
   re-renders the dropdown or resets the input's tabindex on blur. */
(function () {
  'use strict';

  function repair(root) {
    root.querySelectorAll('.dash-dropdown-focus-target').forEach(function (dummy) {
      if (dummy.tabIndex !== -1) { dummy.tabIndex = -1; }
      var button = dummy.nextElementSibling;
      if (button && button.tagName === 'BUTTON' && !button.disabled && button.tabIndex !== 0) {
        button.tabIndex = 0;
      }
    });
  }

  function start() {
    repair(document);
    new MutationObserver(function () { repair(document); }).observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ['tabindex']
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
