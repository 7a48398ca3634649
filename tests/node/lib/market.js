// The marketplace chain the chat needs, built over HTTP the way clients build it (the same
// chain as tests/api/support/{catalog.rs,market.rs}): an approved vendor with a product, a
// buyer with an address and a funded wallet, an order, its chat room.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { gql, upload } from './gql.js';
import { PASSWORD } from './server.js';

/** The smallest PDF the server's sniffing accepts. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');

const SESSION = 'accessToken refreshToken user { id }';

function session(payload, email) {
  return { userId: payload.user.id, email, token: payload.accessToken, refreshToken: payload.refreshToken };
}

/** A new customer with a unique email, signed in. */
export async function customer(server, name) {
  const slug = name.toLowerCase().replace(/[^a-z0-9]/g, '-');
  const email = `${slug}-${randomUUID().replaceAll('-', '')}@example.com`;
  const data = await gql(
    server.graphql,
    `mutation($input: RegisterInput!) { register(input: $input) { ${SESSION} } }`,
    { input: { email, password: PASSWORD, fullName: name } },
  );
  return session(data.register, email);
}

export async function login(server, email, password = PASSWORD) {
  const data = await gql(
    server.graphql,
    `mutation($input: LoginInput!) { login(input: $input) { __typename ... on AuthPayload { ${SESSION} } } }`,
    { input: { email, password } },
  );
  if (data.login.__typename !== 'AuthPayload') throw new Error(`login of ${email}: ${data.login.__typename}`);
  return session(data.login, email);
}

/** The admin `startServer` made with `kabaadwala create-superuser`, signed in. */
export async function admin(server) {
  server.adminSession ??= await login(server, server.admin.email, server.admin.password);
  return server.adminSession;
}

/** Connaught Place, New Delhi. */
export const DELHI = { latitude: 28.6315, longitude: 77.2167 };

/** A new user registered as a vendor whose KYC (a PAN document) an admin approved. */
export async function approvedVendor(server, name) {
  const owner = await customer(server, name);
  const { registerVendor } = await gql(
    server.graphql,
    'mutation($input: VendorInput!) { registerVendor(input: $input) { id kycStatus } }',
    {
      input: {
        businessName: `${name} Kabaad Store`,
        description: 'Paper, metal and e-waste',
        phone: '+91 98765 43210',
        address: { label: 'Shop', line1: '12 Main Road', city: 'New Delhi', state: 'Delhi', pincode: '110001' },
        ...DELHI,
        serviceRadiusKm: 25,
      },
    },
    owner.token,
  );
  await upload(
    server.graphql,
    'mutation($kind: KycDocumentKind!, $file: Upload!) { uploadKycDocument(kind: $kind, file: $file) { id } }',
    { kind: 'PAN', file: null },
    { 'variables.file': { name: 'pan.pdf', type: 'application/pdf', bytes: PDF } },
    owner.token,
  );
  const staff = await admin(server);
  const { reviewKyc } = await gql(
    server.graphql,
    'mutation($id: ID!) { reviewKyc(vendorId: $id, approve: true) { id kycStatus } }',
    { id: registerVendor.id },
    staff.token,
  );
  if (reviewKyc.kycStatus !== 'APPROVED') throw new Error(`KYC not approved: ${reviewKyc.kycStatus}`);
  return { owner, vendorId: registerVendor.id };
}

/** A new top-level category (its id), made by the admin. */
export async function category(server, name) {
  const staff = await admin(server);
  const { createCategory } = await gql(
    server.graphql,
    'mutation($input: CategoryInput!) { createCategory(input: $input) { id } }',
    { input: { name: `${name} ${randomUUID().slice(0, 8)}` } },
    staff.token,
  );
  return createCategory.id;
}

/** An active product of the vendor: `price` paise per KG, `stock` units (its id). */
export async function product(server, vendor, categoryId, name, price, stock) {
  const { createProduct } = await gql(
    server.graphql,
    'mutation($input: ProductInput!) { createProduct(input: $input) { id } }',
    { input: { name, description: `${name}, sorted and weighed`, categoryId, unit: 'KG', price, stock } },
    vendor.owner.token,
  );
  return createProduct.id;
}

/** One of `who`'s addresses near the vendors (its id). */
export async function address(server, who) {
  const { createAddress } = await gql(
    server.graphql,
    'mutation($input: AddressInput!) { createAddress(input: $input) { id } }',
    { input: { label: 'Home', line1: '2 Lane', city: 'New Delhi', state: 'Delhi', pincode: '110002', latitude: 28.64, longitude: 77.22 } },
    who.token,
  );
  return createAddress.id;
}

export async function availableBalance(server, who) {
  const { wallet } = await gql(server.graphql, '{ wallet { availableBalance } }', {}, who.token);
  return Number(wallet.availableBalance);
}

/** Recharges `who`'s wallet by `amount` paise and waits until the sandbox (the job worker inside `serve`) confirmed it. */
export async function fund(server, who, amount) {
  const before = await availableBalance(server, who);
  const { rechargeWallet } = await gql(
    server.graphql,
    'mutation($input: RechargeInput!) { rechargeWallet(input: $input) { id status } }',
    { input: { amount, idempotencyKey: randomUUID() } },
    who.token,
  );
  if (rechargeWallet.status === 'FAILED') throw new Error('the sandbox declined the recharge');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const now = await availableBalance(server, who);
    if (now >= before + amount) return now;
    if (Date.now() > deadline) throw new Error(`recharge ${rechargeWallet.id} not confirmed within 30 s (balance ${now})`);
    await sleep(100);
  }
}

/** A PLACED order of `buyer` (its id). */
export async function placeOrder(server, buyer, items, addressId) {
  const { createOrder } = await gql(
    server.graphql,
    'mutation($input: CreateOrderInput!) { createOrder(input: $input) { id status } }',
    { input: { items, addressId, note: 'ring twice', idempotencyKey: randomUUID() } },
    buyer.token,
  );
  return createOrder.id;
}

export async function chatRoom(server, who, orderId) {
  const { createChatRoom } = await gql(
    server.graphql,
    'mutation($id: ID!) { createChatRoom(orderId: $id) { id } }',
    { id: orderId },
    who.token,
  );
  return createChatRoom.id;
}

export const MESSAGE_FIELDS = 'id body sender { id } createdAt';

/** `sendMessage` as `who`: the message. */
export async function sendMessage(server, who, roomId, body) {
  const { sendMessage: message } = await gql(
    server.graphql,
    `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`,
    { input: { roomId, body } },
    who.token,
  );
  return message;
}

/** Every message of the room, oldest first, as `who` reads them over HTTP. */
export async function allMessages(server, who, roomId) {
  const out = [];
  let after = null;
  for (;;) {
    const { messages } = await gql(
      server.graphql,
      `query($roomId: ID!, $after: String) { messages(roomId: $roomId, first: 100, after: $after) { edges { node { ${MESSAGE_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
      { roomId, after },
      who.token,
    );
    out.push(...messages.edges.map((e) => e.node));
    if (!messages.pageInfo.hasNextPage) return out;
    after = messages.pageInfo.endCursor;
  }
}

/**
 * The whole chain: an approved vendor with a product, a buyer with an address and a funded
 * wallet, an order, its chat room, and an outsider (signed in, not in the room).
 */
export async function chat(server) {
  const vendor = await approvedVendor(server, 'Ravi');
  const categoryId = await category(server, 'Paper');
  const productId = await product(server, vendor, categoryId, 'Newspaper', 1500, 1000);
  const buyer = await customer(server, 'Asha');
  const addressId = await address(server, buyer);
  await fund(server, buyer, 100_000);
  const orderId = await placeOrder(server, buyer, [{ productId, quantity: 2 }], addressId);
  const roomId = await chatRoom(server, buyer, orderId);
  const outsider = await customer(server, 'Outsider');
  return { vendor, buyer, outsider, orderId, roomId, productId, addressId };
}
