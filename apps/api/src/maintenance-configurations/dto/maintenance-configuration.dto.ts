import { NestedObject, NestedObjects } from '@cerulean/arm';
import { IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

// The spec's WeekDay and Type (week index) enums, spelled as AKS spells them.
export const WEEK_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
export const WEEK_INDEXES = ['First', 'Second', 'Third', 'Fourth', 'Last'] as const;

/** Legacy `timeInWeek` entry: a day and the hours (UTC) maintenance may start in. */
export class TimeInWeekDto {
  @IsIn(WEEK_DAYS) day!: string;
  @IsOptional() @IsArray() @IsInt({ each: true }) @Min(0, { each: true }) @Max(23, { each: true }) hourSlots?: number[];
}

/** Legacy `notAllowedTime` entry: two date-times. */
export class TimeSpanDto {
  @IsOptional() @IsString() start?: string;
  @IsOptional() @IsString() end?: string;
}

export class DailyScheduleDto {
  @IsInt() @Min(1) @Max(7) intervalDays!: number;
}

export class WeeklyScheduleDto {
  @IsInt() @Min(1) @Max(4) intervalWeeks!: number;
  @IsIn(WEEK_DAYS) dayOfWeek!: string;
}

export class AbsoluteMonthlyScheduleDto {
  @IsInt() @Min(1) @Max(6) intervalMonths!: number;
  @IsInt() @Min(1) @Max(31) dayOfMonth!: number;
}

export class RelativeMonthlyScheduleDto {
  @IsInt() @Min(1) @Max(6) intervalMonths!: number;
  @IsIn(WEEK_INDEXES) weekIndex!: string;
  @IsIn(WEEK_DAYS) dayOfWeek!: string;
}

/** One and only one kind is set; the rules check that (class-validator cannot say "exactly one"). */
export class ScheduleDto {
  @IsOptional() @NestedObject(() => DailyScheduleDto) daily?: DailyScheduleDto | null;
  @IsOptional() @NestedObject(() => WeeklyScheduleDto) weekly?: WeeklyScheduleDto | null;
  @IsOptional() @NestedObject(() => AbsoluteMonthlyScheduleDto) absoluteMonthly?: AbsoluteMonthlyScheduleDto | null;
  @IsOptional() @NestedObject(() => RelativeMonthlyScheduleDto) relativeMonthly?: RelativeMonthlyScheduleDto | null;
}

export class DateSpanDto {
  @IsString() start!: string;
  @IsString() end!: string;
}

/** `maintenanceWindow`, with the spec's required fields and bounds. */
export class MaintenanceWindowDto {
  @NestedObject(() => ScheduleDto) schedule!: ScheduleDto;
  @IsInt() @Min(4) @Max(24) durationHours!: number;
  @IsOptional() @IsString() @Matches(/^(-|\+)[0-9]{2}:[0-9]{2}$/, { message: 'utcOffset must have the form +HH:mm or -HH:mm' }) utcOffset?: string | null;
  @IsOptional() @IsString() startDate?: string | null;
  @IsString() @Matches(/^\d{2}:\d{2}$/, { message: 'startTime must have the form HH:mm' }) startTime!: string;
  @IsOptional() @NestedObjects(() => DateSpanDto) notAllowedDates?: DateSpanDto[] | null;
}

export class MaintenanceConfigurationPropertiesDto {
  @IsOptional() @NestedObjects(() => TimeInWeekDto) timeInWeek?: TimeInWeekDto[] | null;
  @IsOptional() @NestedObjects(() => TimeSpanDto) notAllowedTime?: TimeSpanDto[] | null;
  @IsOptional() @NestedObject(() => MaintenanceWindowDto) maintenanceWindow?: MaintenanceWindowDto | null;
}

/** Body of `PUT .../maintenanceConfigurations/{configName}`. */
export class MaintenanceConfigurationBodyDto {
  @IsOptional() @NestedObject(() => MaintenanceConfigurationPropertiesDto) properties?: MaintenanceConfigurationPropertiesDto | null;
}
