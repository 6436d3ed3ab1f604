/**
 * The SAML signature algorithm allow-list (workload-identity.md §8): xml-crypto accepts RSA-SHA1
 * signatures and SHA-1 digests by default, and node-saml offers no option to refuse them. The
 * assertion's signature is therefore verified a second time, on the very document node-saml verifies
 * (the same wrapper text, the only `Signature` child of the only `Assertion`), by an xml-crypto
 * instance that knows only the algorithms below: a SHA-1 method makes that verification throw. The
 * algorithms are read from the signature that verified, never from a separate scan of the XML.
 */
import { parseDomFromString } from '@node-saml/node-saml/lib/xml.js'
import { SignedXml } from 'xml-crypto'

const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#'
const SAML2_ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion'
const SAML2_PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol'

/** `SignatureMethod` values accepted: RSA with SHA-256 or SHA-512 (PKCS#1 v1.5 or PSS/MGF1). */
export const SAML_SIGNATURE_ALGORITHMS: readonly string[] = [
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]
/** `DigestMethod` values accepted. */
export const SAML_DIGEST_ALGORITHMS: readonly string[] = ['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512']

type DomNode = Parameters<SignedXml['loadSignature']>[0]
interface XElement {
  readonly nodeType: number
  readonly localName?: string | null
  readonly namespaceURI?: string | null
  readonly childNodes: { readonly length: number; item(index: number): XElement | null }
}

const childElements = (node: XElement, ns: string, name: string): XElement[] => {
  const out: XElement[] = []
  for (let i = 0; i < node.childNodes.length; i++) {
    const child = node.childNodes.item(i)
    if (child !== null && child.nodeType === 1 && child.localName === name && child.namespaceURI === ns) out.push(child)
  }
  return out
}

/**
 * True when the assertion in `wrapperXml` carries exactly one enveloped signature that verifies with
 * one of `certificates` using only allow-listed algorithms.
 */
export async function hasStrongSignature(wrapperXml: string, certificates: readonly string[]): Promise<boolean> {
  // node-saml normalises newlines before xml-crypto sees the document; verify the same text.
  const xml = wrapperXml.replace(/\r\n?/g, '\n')
  const doc = (await parseDomFromString(xml)) as unknown as XElement
  const responses = childElements(doc, SAML2_PROTOCOL_NS, 'Response')
  const assertions = responses.length === 1 ? childElements(responses[0] as XElement, SAML2_ASSERTION_NS, 'Assertion') : []
  const signatures = assertions.length === 1 ? childElements(assertions[0] as XElement, XMLDSIG_NS, 'Signature') : []
  const signature = signatures[0]
  if (signatures.length !== 1 || signature === undefined) return false
  return certificates.some((certificate) => verifiesStrongly(xml, signature, certificate))
}

function verifiesStrongly(xml: string, signature: XElement, certificate: string): boolean {
  const verifier = new SignedXml({ publicCert: certificate })
  verifier.SignatureAlgorithms = pick(verifier.SignatureAlgorithms, SAML_SIGNATURE_ALGORITHMS)
  verifier.HashAlgorithms = pick(verifier.HashAlgorithms, SAML_DIGEST_ALGORITHMS)
  try {
    verifier.loadSignature(signature as unknown as DomNode)
    if (!verifier.checkSignature(xml)) return false
  } catch {
    // An algorithm outside the maps above, or a malformed signature.
    return false
  }
  // What was verified, read back from the verifier itself.
  const algorithm = verifier.signatureAlgorithm
  return algorithm !== undefined && SAML_SIGNATURE_ALGORITHMS.includes(algorithm) && verifier.getReferences().every((ref) => SAML_DIGEST_ALGORITHMS.includes(ref.digestAlgorithm))
}

function pick<T>(table: Record<string, T>, allowed: readonly string[]): Record<string, T> {
  return Object.fromEntries(Object.entries(table).filter(([uri]) => allowed.includes(uri)))
}
