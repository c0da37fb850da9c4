// Types of aggregate.js for the TypeScript tests that import it.
export declare const NS_DECLS: string;
export declare function syntheticName(i: number): { name: string; domain: string };
export declare function certBody(certPem: string): string;
export declare function syntheticIdp(i: number, o: { certs: string[]; registrationAuthority?: string; compact?: boolean }): string;
export declare function aggregateXml(o: { entities: string[]; signer?: { key: string; cert: string }; tool?: 'xml-crypto' | 'xmlsec1'; validUntil?: number; name?: string; id?: string }): string;
export declare function signAggregate(xml: string, id: string, signer: { key: string; cert: string }): string;
export declare function signWithXmlsec1(xml: string, signer: { key: string; cert: string }): string;
