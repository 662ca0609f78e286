import data from '../data/locations.json';

export interface Location {
  name: string;
  displayName: string;
  regionalDisplayName: string;
  geographyGroup: string;
  latitude: string;
  longitude: string;
  zones: string[];
}

/** ARM accepts `West US`, `westus` and `WestUS` alike and stores the lower-case, space-free form. */
export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}

export class LocationCatalog {
  constructor(private readonly locations: Location[] = data.locations) {}

  list(): Location[] {
    return this.locations;
  }

  find(location: string): Location | undefined {
    const n = normalizeLocation(location);
    return this.locations.find((l) => l.name === n);
  }
}
