/**
 * JSON Schema of the state file (docs/state-format.md). Shape only: types, ranges,
 * formats, unknown keys. Whether names refer to things that exist is the
 * consistency check's job (consistency.ts), which some read-only commands
 * may downgrade to warnings.
 */
import { OVERLAY_MTU_MAX, OVERLAY_MTU_MIN } from '../syntax/overlay-limits.js';
import * as P from '../syntax/patterns.js';

const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
// The illumos overlay driver's range: 8900, not the man page's 9000 (syntax/overlay-limits.ts).
const overlayMtu = { type: 'integer', minimum: OVERLAY_MTU_MIN, maximum: OVERLAY_MTU_MAX } as const;
const underlayMtu = { type: 'integer', minimum: 576, maximum: 9216 } as const;
const hostname = { type: 'string', pattern: P.HOSTNAME } as const;
const ipv4 = { type: 'string', format: 'ipv4' } as const;
const rangeList = {
  anyOf: [
    { type: 'string', pattern: P.RANGE_STRING, maxLength: 100_000 },
    {
      type: 'array',
      maxItems: 100_000,
      items: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9]+(?:-[0-9]+)?$' }] },
    },
  ],
} as const;

export const STATE_SCHEMA = {
  $id: 'https://esdc-overlay.invalid/state.schema.json',
  title: 'esdc-overlay state',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    version: { const: 1 },
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: {
        underlay_mtu: underlayMtu,
        head_pdc: { type: 'string', pattern: P.PDC_NAME },
        ipsec: {
          type: 'object',
          additionalProperties: false,
          properties: {
            profile: { enum: ['danube', 'strong'] },
            encr: { enum: ['aes-cbc', 'aes-gcm'] },
            auth: { enum: ['sha256', 'sha512'] },
            policy_scope: { enum: ['overlay-ports', 'all-udp'] },
            // `cert` passes the shape check so that the model can say it is not built (build-model.ts).
            keys: { enum: ['pair', 'pdc-pair', 'cert'] },
          },
        },
        arp_tables: { enum: ['esdc-overlay', 'danube'] },
      },
    },
    nodes: {
      type: 'object',
      propertyNames: { pattern: P.HOSTNAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['uuid', 'pdc', 'admin_ip'],
        properties: {
          uuid: { type: 'string', pattern: P.UUID },
          pdc: { type: 'string', pattern: P.PDC_NAME },
          admin_ip: ipv4,
          external_ip: ipv4,
          underlay_mtu: {
            anyOf: [
              underlayMtu,
              {
                type: 'object',
                additionalProperties: false,
                properties: { admin: underlayMtu, external: underlayMtu },
              },
            ],
          },
          ssh: {
            type: 'object',
            additionalProperties: false,
            properties: {
              host: { anyOf: [hostname, ipv4] },
              port,
              user: { type: 'string', pattern: P.SSH_USER },
            },
          },
        },
      },
    },
    overlay_rules: {
      type: 'object',
      propertyNames: { pattern: P.RULE_NAME_LOOSE, not: { const: 'adminoverlay' } },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          port,
          nodes: {
            anyOf: [
              { const: 'all' },
              { type: 'array', uniqueItems: true, items: hostname },
            ],
          },
          mtu: overlayMtu,
          listen_ip: ipv4,
          files_config: { type: 'string', pattern: P.FILES_CONFIG_PATH },
          rule: { type: 'string', minLength: 1, maxLength: 1024 },
        },
      },
    },
    adminoverlay: {
      type: 'object',
      additionalProperties: false,
      required: ['subnet'],
      properties: {
        subnet: { type: 'string', format: 'ipv4-cidr' },
        port,
        vxlan_id: { type: 'integer', minimum: 1, maximum: 16_777_215 },
        vlan_id: { type: 'integer', minimum: 0, maximum: 4094 },
        mtu: overlayMtu,
        nodes: {
          type: 'object',
          propertyNames: { pattern: P.HOSTNAME },
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['ip', 'mac'],
            properties: { ip: ipv4, mac: { type: 'string', pattern: P.MAC } },
          },
        },
      },
    },
    firewall: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        administrator_sources: {
          type: 'array',
          uniqueItems: true,
          items: { type: 'string', format: 'ipv4-source' },
        },
      },
    },
    ipsec: {
      type: 'object',
      additionalProperties: false,
      properties: {
        psk: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['nodes', 'key'],
            properties: {
              nodes: { type: 'array', minItems: 2, maxItems: 2, items: hostname },
              key: { type: 'string', pattern: P.PSK },
            },
          },
        },
        pdc_psk: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['pdcs', 'key'],
            properties: {
              pdcs: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'string', pattern: P.PDC_NAME } },
              key: { type: 'string', pattern: P.PSK },
            },
          },
        },
      },
    },
    vdcs: {
      type: 'object',
      propertyNames: { pattern: P.VDC_NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          vxlan_allowed: rangeList,
          vlan_allowed: rangeList,
          vxlan_restrict: { type: 'boolean' },
          vlan_restrict: { type: 'boolean' },
        },
      },
    },
    vnics: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['node', 'mac', 'ip', 'nic_tag'],
        properties: {
          node: hostname,
          mac: { type: 'string', pattern: P.MAC },
          ip: ipv4,
          ip6: { type: 'string', format: 'ipv6' },
          nic_tag: { type: 'string', pattern: P.NIC_TAG },
          vlan_id: { type: 'integer', minimum: 0, maximum: 4094 },
          vm: { type: 'string', pattern: P.UUID },
          vdc: { type: 'string', pattern: P.VDC_NAME },
        },
      },
    },
  },
} as const;
