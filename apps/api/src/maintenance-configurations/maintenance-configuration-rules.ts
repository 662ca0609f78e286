import { ArmError } from '@cerulean/arm';
import { MaintenanceConfigurationBodyDto, MaintenanceWindowDto, ScheduleDto } from './dto/maintenance-configuration.dto';

/** The configuration names AKS serves, as it spells them. */
export const CONFIG_NAMES = ['default', 'aksManagedAutoUpgradeSchedule', 'aksManagedNodeOSUpgradeSchedule'] as const;
export type ConfigName = (typeof CONFIG_NAMES)[number];

const SCHEDULE_KINDS = ['daily', 'weekly', 'absoluteMonthly', 'relativeMonthly'] as const;
type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

/** The configuration a name denotes (names are case-insensitive), or undefined for a name AKS does not serve. */
export function configNameOf(name: string): ConfigName | undefined {
  return CONFIG_NAMES.find((n) => n.toLowerCase() === name.toLowerCase());
}

/** PUT with a name outside the three: AKS's wire answer (quoted in Azure/ARO-HCP#3260). */
export function assertConfigName(name: string): ConfigName {
  const known = configNameOf(name);
  if (!known) {
    throw ArmError.badRequest(
      'InvalidParameter',
      "Only 'default', 'aksManagedAutoUpgradeSchedule' and 'aksManagedNodeOSUpgradeSchedule' are allowed configNames for maintenance configuration.",
      'configName',
    );
  }
  return known;
}

export interface StoredMaintenanceWindow {
  schedule: Partial<Record<ScheduleKind, Record<string, unknown>>>;
  durationHours: number;
  utcOffset: string;
  startDate: string;
  startTime: string;
  notAllowedDates?: { start: string; end: string }[];
}

export interface StoredMaintenanceProperties {
  timeInWeek?: { day: string; hourSlots: number[] }[];
  notAllowedTime?: { start: string; end: string }[];
  maintenanceWindow?: StoredMaintenanceWindow;
}

const invalid = (target: string, message: string): ArmError => ArmError.invalidParameter(target, message);
const present = <T>(v: T[] | null | undefined): v is T[] => Array.isArray(v) && v.length > 0;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
function isDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}
const isDateTime = (s: string): boolean => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s) && !Number.isNaN(Date.parse(s)) && isDate(s.slice(0, 10));

/** `+HH:mm`/`-HH:mm` as minutes east of UTC; the pattern itself is the DTO's. Real offsets lie within ±14:00. */
function offsetMinutes(offset: string, target: string): number {
  const hours = Number(offset.slice(1, 3));
  const minutes = Number(offset.slice(4, 6));
  if (minutes > 59 || hours * 60 + minutes > 14 * 60) throw invalid(target, `utcOffset '${offset}' is not a valid UTC offset (from -14:00 to +14:00).`);
  return (offset.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

/**
 * The body of a maintenance configuration PUT, checked as AKS checks it beyond the spec's own bounds (the DTO's),
 * and the properties to store. `default` takes the legacy `timeInWeek` (+ `notAllowedTime`) or, from 2023-05-01,
 * a weekly `maintenanceWindow`; the aksManaged* configurations take `maintenanceWindow` only (AKS planned
 * maintenance docs). `createdAt` (the configuration's creation time) is the documented default of `startDate`.
 */
export function resolveMaintenanceConfiguration(name: ConfigName, body: MaintenanceConfigurationBodyDto, createdAt: Date): StoredMaintenanceProperties {
  const props = body.properties ?? {};
  const legacy = present(props.timeInWeek) || present(props.notAllowedTime);
  const out: StoredMaintenanceProperties = {};
  if (name !== 'default') {
    if (legacy) {
      throw invalid(
        present(props.timeInWeek) ? 'properties.timeInWeek' : 'properties.notAllowedTime',
        `timeInWeek and notAllowedTime are only supported by the 'default' maintenance configuration; '${name}' takes maintenanceWindow.`,
      );
    }
    if (!props.maintenanceWindow) throw invalid('properties.maintenanceWindow', `maintenanceWindow is required for maintenance configuration '${name}'.`);
  } else {
    if (present(props.timeInWeek) && props.maintenanceWindow) {
      throw invalid('properties.maintenanceWindow', "The 'default' maintenance configuration takes either timeInWeek or maintenanceWindow, not both.");
    }
    if (!present(props.timeInWeek) && !props.maintenanceWindow) {
      throw invalid('properties', "The 'default' maintenance configuration needs timeInWeek or maintenanceWindow.");
    }
    if (present(props.timeInWeek)) out.timeInWeek = props.timeInWeek.map((t) => ({ day: t.day, hourSlots: [...(t.hourSlots ?? [])] }));
    if (present(props.timeInWeek) || props.notAllowedTime) out.notAllowedTime = notAllowedTime(props.notAllowedTime ?? []);
  }
  if (props.maintenanceWindow) out.maintenanceWindow = maintenanceWindow(name, props.maintenanceWindow, createdAt);
  return out;
}

function notAllowedTime(spans: { start?: string; end?: string }[]): { start: string; end: string }[] {
  return spans.map((s, i) => {
    const target = `properties.notAllowedTime[${i}]`;
    if (typeof s.start !== 'string' || !isDateTime(s.start))
      throw invalid(`${target}.start`, `${target}.start must be a date-time such as 2021-05-26T03:00:00Z.`);
    if (typeof s.end !== 'string' || !isDateTime(s.end)) throw invalid(`${target}.end`, `${target}.end must be a date-time such as 2021-05-30T12:00:00Z.`);
    if (Date.parse(s.end) <= Date.parse(s.start)) throw invalid(target, `${target}: end must be later than start.`);
    return { start: s.start, end: s.end };
  });
}

function scheduleOf(schedule: ScheduleDto): { kind: ScheduleKind; value: Record<string, unknown> } {
  const set = SCHEDULE_KINDS.filter((k) => schedule[k] !== undefined && schedule[k] !== null);
  if (set.length !== 1) {
    throw invalid(
      'properties.maintenanceWindow.schedule',
      "One and only one of the schedule types should be specified. Choose either 'daily', 'weekly', 'absoluteMonthly' or 'relativeMonthly' for your maintenance schedule.",
    );
  }
  const kind = set[0];
  const v = schedule[kind] as unknown as Record<string, unknown>;
  const keys: Record<ScheduleKind, string[]> = {
    daily: ['intervalDays'],
    weekly: ['intervalWeeks', 'dayOfWeek'],
    absoluteMonthly: ['intervalMonths', 'dayOfMonth'],
    relativeMonthly: ['intervalMonths', 'weekIndex', 'dayOfWeek'],
  };
  return { kind, value: Object.fromEntries(keys[kind].map((k) => [k, v[k]])) };
}

function maintenanceWindow(name: ConfigName, w: MaintenanceWindowDto, createdAt: Date): StoredMaintenanceWindow {
  const target = 'properties.maintenanceWindow';
  const { kind, value } = scheduleOf(w.schedule);
  if (name === 'default') {
    // AKS's wire answer for a default window of any other kind (Azure/AgentBaker#6529); the interval is fixed at
    // one week since api-version 2025-03-01 (Azure/azure-cli#33431).
    if (kind !== 'weekly')
      throw invalid(`${target}.schedule`, 'Only weekly schedule is supported for control plane upgrade maintenance configuration: default.');
    if (value.intervalWeeks !== 1) {
      throw invalid(`${target}.schedule.weekly.intervalWeeks`, "intervalWeeks must be 1 for the 'default' maintenance configuration.");
    }
  }
  const [hh, mm] = w.startTime.split(':').map(Number);
  if (hh > 23 || mm > 59) throw invalid(`${target}.startTime`, `startTime '${w.startTime}' is not valid: accepted values are from '00:00' to '23:59'.`);
  const utcOffset = w.utcOffset ?? '+00:00';
  const offset = offsetMinutes(utcOffset, `${target}.utcOffset`);
  if (w.startDate !== undefined && w.startDate !== null && !isDate(w.startDate)) {
    throw invalid(`${target}.startDate`, `startDate '${w.startDate}' is not a date of the form YYYY-MM-DD.`);
  }
  const out: StoredMaintenanceWindow = {
    schedule: { [kind]: value },
    durationHours: w.durationHours,
    utcOffset,
    // Documented default: the date the configuration was created, in its own time zone.
    startDate: w.startDate ?? new Date(createdAt.getTime() + offset * 60_000).toISOString().slice(0, 10),
    startTime: w.startTime,
  };
  if (w.notAllowedDates) {
    out.notAllowedDates = w.notAllowedDates.map((d, i) => {
      const at = `${target}.notAllowedDates[${i}]`;
      if (!isDate(d.start)) throw invalid(`${at}.start`, `${at}.start '${d.start}' is not a date of the form YYYY-MM-DD.`);
      if (!isDate(d.end)) throw invalid(`${at}.end`, `${at}.end '${d.end}' is not a date of the form YYYY-MM-DD.`);
      if (d.end < d.start) throw invalid(at, `${at}: end '${d.end}' is before start '${d.start}'.`);
      return { start: d.start, end: d.end };
    });
  }
  return out;
}
