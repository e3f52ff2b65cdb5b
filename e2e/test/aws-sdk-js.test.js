// The AWS SDK for JavaScript v3 (STS, IAM and Amazon Connect clients) against
// the Gatehouse AWS sandbox started by `gatehouse demo`: a second SDK,
// written by other people in another language, beside the Go SDK that
// Gatehouse itself uses. It checks the sandbox's wire protocols (Query XML
// for STS and IAM, restJson1 for Connect), its SigV4 checks and error
// shapes, and it redeems a SAML response that Gatehouse issued for the
// agent with STS AssumeRoleWithSAML, then calls AWS with the temporary
// credentials, as the AWS CLI or any SAML-to-AWS tool would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { STSClient, GetCallerIdentityCommand, AssumeRoleWithSAMLCommand } from '@aws-sdk/client-sts';
import { ListRolesCommand, ListSAMLProvidersCommand } from '@aws-sdk/client-iam';
import {
  ConnectClient,
  ListSecurityProfilesCommand,
  ListRoutingProfilesCommand,
  ListUsersCommand,
  DescribeUserCommand,
  CreateUserCommand,
  UpdateUserIdentityInfoCommand,
  DeleteUserCommand,
} from '@aws-sdk/client-connect';
import { Demo } from '../lib/demo.js';
import { Browser, htmlUnescape, samlForm } from '../lib/browser.js';
import { sandboxIAM } from '../lib/sandboxiam.js';

let demo;

before(async () => {
  demo = await Demo.start();
});

after(async () => {
  await demo?.stop();
});

function clientConfig(sb, credentials) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    region: sb.region,
    endpoint: sb.url,
    credentials: credentials ?? { accessKeyId: sb.access_key_id, secretAccessKey: sb.secret_access_key },
    maxAttempts: 1,
  };
}

/** Runs f and returns the AWS service error it must throw. */
async function awsError(f) {
  try {
    await f();
  } catch (err) {
    assert.ok(err.$metadata, `expected an AWS service error, got ${err}`);
    return err;
  }
  assert.fail('the call succeeded');
}

test('AWS SDK for JavaScript: STS and IAM read the sandbox account; a wrong secret key is refused by SigV4', async () => {
  const sb = demo.info.sandbox;
  const sts = new STSClient(clientConfig(sb));
  const me = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(me.Account, sb.account_id);
  assert.match(me.Arn, new RegExp(`^arn:aws:iam::${sb.account_id}:`));

  const iam = sandboxIAM(sb);
  const roles = (await iam.send(new ListRolesCommand({}))).Roles.map((r) => r.Arn);
  const providers = (await iam.send(new ListSAMLProvidersCommand({}))).SAMLProviderList.map((p) => p.Arn);
  assert.ok(providers.length >= 1, 'the demo uploaded Gatehouse metadata as a SAML provider');
  assert.ok(roles.some((r) => /:role\//.test(r)), roles.join(','));

  const forged = new STSClient(clientConfig(sb, { accessKeyId: sb.access_key_id, secretAccessKey: 'x'.repeat(40) }));
  const err = await awsError(() => forged.send(new GetCallerIdentityCommand({})));
  assert.equal(err.name, 'SignatureDoesNotMatch');
  assert.equal(err.$metadata.httpStatusCode, 403);
});

test('AWS SDK for JavaScript: Connect users are listed, created, described, updated and deleted with AWS error shapes', async () => {
  const sb = demo.info.sandbox;
  // Connect allows 2 requests a second (burst 5) per account and region,
  // which the sandbox enforces; the SDK's standard retry mode backs off on
  // its ThrottlingException as it would against AWS.
  const connect = new ConnectClient({ ...clientConfig(sb), maxAttempts: 10 });
  const InstanceId = sb.connect_instance_id;

  const profiles = (await connect.send(new ListSecurityProfilesCommand({ InstanceId }))).SecurityProfileSummaryList;
  const agentProfile = profiles.find((p) => p.Name === 'Agent');
  assert.ok(agentProfile?.Id, JSON.stringify(profiles));
  const routing = (await connect.send(new ListRoutingProfilesCommand({ InstanceId }))).RoutingProfileSummaryList;
  assert.ok(routing.length >= 1);

  // The demo's agent was provisioned by Gatehouse, with the app username as
  // Connect username (what Connect compares with the RoleSessionName).
  const listed = (await connect.send(new ListUsersCommand({ InstanceId }))).UserSummaryList;
  const agent = listed.find((u) => u.Username === demo.info.agent.username);
  assert.ok(agent, `agent in ${JSON.stringify(listed.map((u) => u.Username))}`);
  const described = (await connect.send(new DescribeUserCommand({ InstanceId, UserId: agent.Id }))).User;
  assert.equal(described.IdentityInfo.FirstName, 'Agatha');
  assert.equal(described.PhoneConfig.PhoneType, 'SOFT_PHONE');

  const created = await connect.send(new CreateUserCommand({
    InstanceId,
    Username: 'js.sdk@example.com',
    IdentityInfo: { FirstName: 'Jay', LastName: 'Ess', Email: 'js.sdk@example.com' },
    PhoneConfig: { PhoneType: 'SOFT_PHONE' },
    SecurityProfileIds: [agentProfile.Id],
    RoutingProfileId: routing[0].Id,
  }));
  assert.match(created.UserArn, new RegExp(`^arn:aws:connect:${sb.region}:${sb.account_id}:instance/${InstanceId}/agent/${created.UserId}$`));

  const dup = await awsError(() => connect.send(new CreateUserCommand({
    InstanceId, Username: 'js.sdk@example.com', IdentityInfo: { FirstName: 'Other', LastName: 'Person' }, PhoneConfig: { PhoneType: 'SOFT_PHONE' },
    SecurityProfileIds: [agentProfile.Id], RoutingProfileId: routing[0].Id,
  })));
  assert.equal(dup.name, 'DuplicateResourceException');
  assert.equal(dup.$metadata.httpStatusCode, 409);

  const withPassword = await awsError(() => connect.send(new CreateUserCommand({
    InstanceId, Username: 'pw.user@example.com', Password: 'Secret-Passw0rd', IdentityInfo: { FirstName: 'Pat', LastName: 'Word' }, PhoneConfig: { PhoneType: 'SOFT_PHONE' },
    SecurityProfileIds: [agentProfile.Id], RoutingProfileId: routing[0].Id,
  })));
  assert.equal(withPassword.name, 'InvalidRequestException', 'a SAML instance refuses a password');
  assert.equal(withPassword.$metadata.httpStatusCode, 400);
  const noName = await awsError(() => connect.send(new CreateUserCommand({
    InstanceId, Username: 'no.name@example.com', PhoneConfig: { PhoneType: 'SOFT_PHONE' },
    SecurityProfileIds: [agentProfile.Id], RoutingProfileId: routing[0].Id,
  })));
  assert.equal(noName.name, 'InvalidParameterException', 'a SAML instance needs FirstName and LastName');
  const names = (await connect.send(new ListUsersCommand({ InstanceId }))).UserSummaryList.map((u) => u.Username);
  assert.ok(!names.includes('pw.user@example.com') && !names.includes('no.name@example.com'), 'refused users were not created');

  await connect.send(new UpdateUserIdentityInfoCommand({ InstanceId, UserId: created.UserId, IdentityInfo: { FirstName: 'Jane', LastName: 'Ess' } }));
  assert.equal((await connect.send(new DescribeUserCommand({ InstanceId, UserId: created.UserId }))).User.IdentityInfo.FirstName, 'Jane');

  await connect.send(new DeleteUserCommand({ InstanceId, UserId: created.UserId }));
  const gone = await awsError(() => connect.send(new DescribeUserCommand({ InstanceId, UserId: created.UserId })));
  assert.equal(gone.name, 'ResourceNotFoundException');
  assert.equal(gone.$metadata.httpStatusCode, 404);
});

test('AWS SDK for JavaScript: STS AssumeRoleWithSAML redeems the SAML response Gatehouse issued for the agent', async () => {
  const { info } = demo;
  const sb = info.sandbox;
  const browser = new Browser(info.gatehouse_url);
  const home = await browser.signIn(info.agent.username, info.agent.password);
  assert.equal(home.url.pathname, '/app/UserHome');
  const tile = home.body.match(/<a href="([^"]+)" target="_blank"[^>]*>.*?<span>Amazon Connect<\/span>/s);
  assert.ok(tile, 'the dashboard has the Amazon Connect tile');
  const form = samlForm(await browser.follow(await browser.get(htmlUnescape(tile[1]))));
  assert.equal(form.action, sb.sign_in_url ?? `${sb.url}/saml`);

  const xml = Buffer.from(form.SAMLResponse, 'base64').toString('utf8');
  const role = xml.match(/Name="https:\/\/aws\.amazon\.com\/SAML\/Attributes\/Role"[^>]*>\s*<saml2?:AttributeValue[^>]*>([^<]+)</);
  assert.ok(role, 'the assertion carries the Role attribute');
  const [roleArn, principalArn] = role[1].split(',');
  assert.match(roleArn, /^arn:aws:iam::\d{12}:role\//);
  assert.match(principalArn, /^arn:aws:iam::\d{12}:saml-provider\//);

  // AssumeRoleWithSAML is unsigned: the SAML assertion is the credential.
  const anonymous = new STSClient({ ...clientConfig(sb), credentials: undefined, signer: { sign: async (r) => r } });
  const out = await anonymous.send(new AssumeRoleWithSAMLCommand({ RoleArn: roleArn, PrincipalArn: principalArn, SAMLAssertion: form.SAMLResponse, DurationSeconds: 900 }));
  const roleName = roleArn.split('/').pop();
  assert.equal(out.AssumedRoleUser.Arn, `arn:aws:sts::${sb.account_id}:assumed-role/${roleName}/${info.agent.username}`);
  assert.ok(out.Credentials.SessionToken);
  assert.ok(out.Credentials.Expiration instanceof Date);
  assert.ok(out.Credentials.Expiration.getTime() - Date.now() <= 900_000 + 5_000, 'DurationSeconds honoured');
  assert.equal(out.Issuer, xml.match(/<saml2?:Issuer[^>]*>([^<]+)</)[1], 'Issuer is the IdP entity ID of the assertion');
  // Audience is the Recipient, as AWS evaluates it: the sandbox's own /saml
  // stands for the global sign-in endpoint (docs/aws-sandbox.md).
  assert.equal(xml.match(/Recipient="([^"]+)"/)[1], `${sb.url}/saml`);
  assert.equal(out.Audience, 'https://signin.aws.amazon.com/saml');

  // The temporary credentials are accepted for signed calls.
  const assumed = new STSClient(clientConfig(sb, {
    accessKeyId: out.Credentials.AccessKeyId, secretAccessKey: out.Credentials.SecretAccessKey, sessionToken: out.Credentials.SessionToken,
  }));
  const who = await assumed.send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, out.AssumedRoleUser.Arn);

  // A tampered assertion is refused with AWS's error code.
  const tampered = Buffer.from(xml.replace(info.agent.username, 'someone.else@example.com'), 'utf8').toString('base64');
  const err = await awsError(() => anonymous.send(new AssumeRoleWithSAMLCommand({ RoleArn: roleArn, PrincipalArn: principalArn, SAMLAssertion: tampered })));
  assert.equal(err.name, 'InvalidIdentityTokenException', 'STS error code InvalidIdentityToken, as the SDK models it');
  assert.equal(err.$metadata.httpStatusCode, 400);
});
