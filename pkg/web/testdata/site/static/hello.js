// A test page's script.
(function () {
  'use strict';
  document.documentElement.dataset.hello = 'yes';
}());
