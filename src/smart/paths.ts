// Where the SMART app lives, for the cards' links (services/card-kit.ts) without importing the routes
// (Express, the token exchange) into the services.
export const SMART_LAUNCH_PATH = '/smart/launch';
export const SMART_APP_PATH = '/smart/app';
