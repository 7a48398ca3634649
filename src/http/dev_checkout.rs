//! `GET /dev/checkout`: a minimal page to pay a recharge through Razorpay Checkout in test mode,
//! for a developer setting up the provider (see the README). Development only: with
//! `APP_ENV=production` it is 404. It signs in through the API, starts a recharge
//! (`rechargeWallet`), opens Checkout with the order, and hands Checkout's result to
//! `confirmRecharge`. Checkout's script comes from Razorpay, as Razorpay requires.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

use super::HttpState;
use crate::config::AppEnv;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Kabaadwala – test checkout</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin:.6rem 0}input{width:100%;padding:.4rem}pre{background:#f4f4f4;padding:.6rem;white-space:pre-wrap}</style>
</head>
<body>
<h1>Test checkout (development only)</h1>
<p>Signs in, starts a wallet recharge and opens the provider's checkout. Use the provider's
test cards or UPI ids; nothing real is charged with test keys.</p>
<label>Email <input id="email" type="email" autocomplete="username"></label>
<label>Password <input id="password" type="password" autocomplete="current-password"></label>
<label>Amount in rupees <input id="amount" type="number" min="1" value="500"></label>
<button id="pay">Recharge</button>
<pre id="log"></pre>
<script src="https://checkout.razorpay.com/v1/checkout.js"></script>
<script>
const log = (x) => { document.getElementById('log').textContent += (typeof x === 'string' ? x : JSON.stringify(x, null, 2)) + '\n'; };
async function gql(query, variables, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors) throw new Error(body.errors.map(e => e.message).join('; '));
  return body.data;
}
document.getElementById('pay').onclick = async () => {
  try {
    const login = await gql('mutation($input: LoginInput!) { login(input: $input) { __typename ... on AuthPayload { accessToken } } }',
      { input: { email: document.getElementById('email').value, password: document.getElementById('password').value } });
    const token = login.login.accessToken;
    if (!token) throw new Error('sign-in needs an OTP; use an account without two-factor');
    const paise = Math.round(Number(document.getElementById('amount').value) * 100);
    const started = await gql('mutation($input: RechargeInput!) { rechargeWallet(input: $input) { id status provider checkout { provider providerOrderId keyId clientSecret amount currency } } }',
      { input: { amount: paise, idempotencyKey: crypto.randomUUID() } }, token);
    const recharge = started.rechargeWallet;
    log(recharge);
    const checkout = recharge.checkout;
    if (!checkout || checkout.provider !== 'razorpay') { log('Not a Razorpay recharge: the sandbox settles by itself, Stripe through its own page with the client secret.'); return; }
    new Razorpay({
      key: checkout.keyId, amount: checkout.amount, currency: checkout.currency, order_id: checkout.providerOrderId,
      name: 'Kabaadwala', description: 'Wallet recharge',
      handler: async (r) => {
        const done = await gql('mutation($input: ConfirmRechargeInput!) { confirmRecharge(input: $input) { id status } }',
          { input: { rechargeId: recharge.id, providerPaymentId: r.razorpay_payment_id, signature: r.razorpay_signature } }, token);
        log(done);
      },
      modal: { ondismiss: () => log('Checkout closed; the webhook or reconciliation settles a payment made anyway.') },
    }).open();
  } catch (e) { log('Error: ' + e.message); }
};
</script>
</body>
</html>
"#;

pub async fn page(State(http): State<HttpState>) -> Response {
    if http.app.config.app_env != AppEnv::Development {
        return StatusCode::NOT_FOUND.into_response();
    }
    ([(header::CACHE_CONTROL, "no-store")], Html(PAGE)).into_response()
}
