// The administrator's steps in AWS IAM (story steps 5 and 6), done against
// the Gatehouse AWS sandbox with the official AWS SDK for JavaScript, as a
// person would in the IAM console: create a SAML identity provider from
// Gatehouse's metadata, then a role that trusts it and may federate into
// Amazon Connect.
import {
  IAMClient,
  CreateSAMLProviderCommand,
  CreateRoleCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';

/** An IAM client for the sandbox described by demo.json's "sandbox". */
export function sandboxIAM(sb) {
  // The pinned SDK works on Node 20; its notice that later releases will
  // need Node 22 is not about this suite.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new IAMClient({
    region: sb.region,
    endpoint: sb.url,
    credentials: { accessKeyId: sb.access_key_id, secretAccessKey: sb.secret_access_key },
    maxAttempts: 1,
  });
}

/** Uploads the metadata as a SAML provider; returns its ARN. */
export async function createSAMLProvider(iam, name, metadataXML) {
  const out = await iam.send(new CreateSAMLProviderCommand({ Name: name, SAMLMetadataDocument: metadataXML }));
  return out.SAMLProviderArn;
}

/**
 * Creates a role for SAML 2.0 federation with the provider (programmatic
 * and console access) and the inline policy that lets its sessions
 * federate into the Connect instance; returns the role ARN.
 */
export async function createConnectRole(iam, sb, name, providerArn) {
  const trust = {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { Federated: providerArn },
      Action: 'sts:AssumeRoleWithSAML',
      Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
    }],
  };
  const role = await iam.send(new CreateRoleCommand({
    RoleName: name,
    AssumeRolePolicyDocument: JSON.stringify(trust),
    MaxSessionDuration: 43200,
  }));
  const policy = {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Action: 'connect:GetFederationToken',
      Resource: [`arn:aws:connect:${sb.region}:${sb.account_id}:instance/${sb.connect_instance_id}/user/\${aws:userid}`],
    }],
  };
  await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'AmazonConnectFederation', PolicyDocument: JSON.stringify(policy) }));
  return role.Role.Arn;
}
