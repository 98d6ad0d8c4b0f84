// PKI.js as an independent judge of a CAdES B-LT signature made by Yagona:
// node verify.mjs SIG.p7s DOCUMENT ROOT.pem
// prints one JSON object: the signature checked with only the root as
// trusted anchor (SignedData.verify, checkChain), its time-stamp token the
// same way, and both again with the signature's revocation data handed to
// PKI.js's chain engine (whole-path revocation).
import { readFileSync } from "node:fs";
import { webcrypto } from "node:crypto";
import * as pkijs from "pkijs";

pkijs.setEngine("node", new pkijs.CryptoEngine({ name: "node", crypto: webcrypto }));

const [sigFile, docFile, rootFile] = process.argv.slice(2);
const ab = (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
const pemDER = (text) => Buffer.from(text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
const root = pkijs.Certificate.fromBER(ab(pemDER(readFileSync(rootFile, "utf8"))));
const sigDER = ab(readFileSync(sigFile));
const doc = ab(readFileSync(docFile));

const OID_TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14";
const OID_RI_OCSP_RESPONSE = "1.3.6.1.5.5.7.16.2"; // RFC 5940

function signedData(schema) {
  return new pkijs.SignedData({ schema: new pkijs.ContentInfo({ schema }).content });
}

// The OCSP responses carried as RFC 5940 other revocation information, as
// the BasicOCSPResponses PKI.js's chain engine reads (it knows only the
// id-pkix-ocsp-basic form by itself).
function ocsps(sd) {
  const out = [];
  for (const c of sd.crls ?? []) {
    if (c.otherRevInfoFormat !== OID_RI_OCSP_RESPONSE) continue;
    const resp = new pkijs.OCSPResponse({ schema: c.otherRevInfo });
    out.push(pkijs.BasicOCSPResponse.fromBER(resp.responseBytes.response.valueBlock.valueHexView));
  }
  return out;
}

async function verify(sd, data, revocation) {
  if (revocation) {
    sd.ocsps = revocation.ocsps;
    sd.crls = revocation.crls;
  }
  try {
    const r = await sd.verify({ signer: 0, checkChain: true, trustedCerts: [root], data, extendedMode: true });
    return { ok: r.signatureVerified === true && r.signerCertificateVerified === true, path: (r.certificatePath ?? []).length };
  } catch (e) {
    return { ok: false, error: e.message ?? String(e) };
  }
}

const outer = () => signedData(pkijs.ContentInfo.fromBER(sigDER).toSchema());
const first = outer();
const signature = ab(Buffer.from(first.signerInfos[0].signature.valueBlock.valueHexView));
const tokenAttr = (first.signerInfos[0].unsignedAttrs?.attributes ?? []).find((a) => a.type === OID_TIMESTAMP_TOKEN);
const token = () => signedData(tokenAttr.values[0]);
const revocation = { ocsps: ocsps(first), crls: (first.crls ?? []).filter((c) => c instanceof pkijs.CertificateRevocationList) };

const result = {
  signature: await verify(outer(), doc),
  timestamp: tokenAttr ? await verify(token(), signature) : { ok: false, error: "no time-stamp token" },
  revocation: { ocsp: revocation.ocsps.length, crl: revocation.crls.length },
  signatureWholePath: await verify(outer(), doc, revocation),
  timestampWholePath: tokenAttr ? await verify(token(), signature, revocation) : { ok: false, error: "no time-stamp token" },
};
console.log(JSON.stringify(result));
