// Boots GraphiQL against this server: queries and mutations over HTTP at /graphql,
// subscriptions over a WebSocket at the same path (graphql-transport-ws, through the graphql-ws
// client bundled in graphiql.min.js). Whatever is typed in GraphiQL's Headers pane, such as
// {"Authorization": "Bearer <accessToken>"}, goes with every HTTP request and, for a
// subscription, as the connection_init payload: createFetcher hands the headers to the
// WebSocket client as its connectionParams, and the server reads the token from there.
'use strict';

(function () {
  // What the Content-Security-Policy blocked, for the browser test (the console shows it too).
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', function (event) {
    window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
  });

  // The one <style> GraphiQL inserts (the scroll lock of its dialogs) takes its nonce from this
  // global, so the policy needs no 'unsafe-inline'.
  window.__webpack_nonce__ = document.currentScript.nonce;

  window.addEventListener('DOMContentLoaded', function () {
    var url = new URL('/graphql', window.location.href).href;
    // http: -> ws:, https: -> wss:, same host and port.
    var subscriptionUrl = url.replace(/^http/, 'ws');
    var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: subscriptionUrl });
    var root = ReactDOM.createRoot(document.getElementById('graphiql'));
    root.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        defaultEditorToolsVisibility: 'headers',
        defaultQuery:
          '# Kabaadwala GraphQL playground (served by this server, no CDN).\n' +
          '#\n' +
          '# To act as a user, log in with a mutation and put\n' +
          '#   {"Authorization": "Bearer <accessToken>"}\n' +
          '# in the Headers pane below: it is sent with every request and,\n' +
          '# for subscriptions, in the WebSocket\'s connection_init.\n' +
          '\n' +
          '{\n  __typename\n}\n',
      }),
    );
  });
})();
